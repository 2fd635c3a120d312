import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Secrets at rest (DESIGN.md "Identity and authentication"): people's
 * passwords only as salted slow hashes (scrypt); the random connection
 * credentials and one-time codes, which carry 256 and 80 bits of entropy, as
 * SHA-256, cheap enough to check at every CONNECT.
 */

/** scrypt cost: N = 2^14, r = 8, p = 1 (RFC 7914 §2 interactive-login figures), 16 MiB of memory. */
const N = 16_384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_BYTES, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A salted slow hash, self-describing: `scrypt$N$r$p$salt$key` (base64url). */
export async function hashPassword(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || salt === undefined || key === undefined) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(secret, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A stored-hash look-alike with the server's own cost: checking a secret
 * against it takes as long as against a real one, and never matches.
 */
const DUMMY_HASH = `scrypt$${N}$${R}$${P}$c2ltc3luYy1kdW1teS1zYQ$bm8tc2VjcmV0LWV2ZXItaGFzaGVzLXRvLXRoaXMta2V5`;

/** Spends the time of one verifyPassword, for answers that must not be faster when nothing is stored. */
export async function dummyVerify(secret: string): Promise<void> {
  await verifyPassword(secret, DUMMY_HASH);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Compares two SHA-256 hex digests without leaking where they differ. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** A terminal's connection credential: 32 random bytes, base64url (43 characters). */
export function newCredential(): string {
  return randomBytes(32).toString('base64url');
}

/** Crockford base32 without I, L, O, U: nothing a shop clerk can misread. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A one-time registration code, 16 characters (80 bits) in groups of four: `7K2Q-…`. */
export function newCode(): string {
  let code = '';
  for (let i = 0; i < 16; i++) {
    if (i > 0 && i % 4 === 0) code += '-';
    code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  }
  return code;
}

/** Codes are typed by people: case and dashes do not matter. */
export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

export function hashCode(code: string): string {
  return sha256(`code:${normaliseCode(code)}`);
}
