import { constantTimeEqual, fromHex, randomBytes, toHex, utf8 } from '../bytes.js';

/**
 * The terminal password of FIG. 8 S3–S4 / FIG. 12 S43–S44, kept in the
 * subscriber ID registration area 6b only as a salted slow hash: PBKDF2-SHA256
 * through Web Crypto (portable: browsers and Node). Format:
 * `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`.
 */
const ITERATIONS = 210_000;

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await globalThis.crypto.subtle.importKey('raw', utf8(password), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await globalThis.crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = ITERATIONS): Promise<string> {
  const salt = randomBytes(16);
  return `pbkdf2-sha256$${iterations}$${toHex(salt)}$${toHex(await derive(password, salt, iterations))}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$');
  if (scheme !== 'pbkdf2-sha256' || !iterations || !salt || !hash) return false;
  const n = Number(iterations);
  if (!Number.isInteger(n) || n < 1) return false;
  return constantTimeEqual(await derive(password, fromHex(salt), n), fromHex(hash));
}
