import { decode, encode } from 'cborg';
import type { NvOp, SimCard } from '../../hal/index.js';
import { readTerminalIds, writeTerminalIds } from '../../uicc/index.js';
import { utf8 } from '../bytes.js';
import { SyncError } from '../errors.js';
import { SEAL_KEY } from '../store/sealed-nv-store.js';

/**
 * The key hierarchy of the sealed store (issue 19; core/README.md "Sealed at
 * rest"):
 *
 *   data key DK      random AES-256-GCM key; seals every personal value (sealed-nv-store.ts)
 *   KEK              PBKDF2-SHA256(terminal password ‖ card secret, salt, 210,000 rounds)
 *   card secret      54 random decimal digits (≈ 179 bits) kept on the SIM, in the file
 *                    of the FIG. 11-A list, as three entries `#1…`, `#2…`, `#3…` that can
 *                    never be a terminal ID; reading that file needs PIN1, verified by the card
 *   NV `k/seal`      { salt, rounds, iv, DK wrapped by KEK with AES-GCM }, bound to the terminal ID
 *
 * So DK unwraps only with all three: the SIM (the card secret is nowhere
 * else), its PIN (the card will not give the file without it, and counts
 * the tries), and the terminal password (in no file: the NV keeps only a
 * salted hash for the FIG. 9/12 checks, which alone unwraps nothing).
 *
 * Why not CK/IK of an AKA challenge: they are fresh per challenge (the
 * card refuses a replayed SQN, Annex C), so a fixed key could come only from
 * the server at each unlock, and the data must open with the SIM in and the
 * server out of reach ([0023]).
 */

const ROUNDS = 210_000;
const SECRET_ENTRIES = 3;
const DIGITS_PER_ENTRY = 18;
const SECRET_ENTRY = /^#([1-3])([0-9]{18})$/;

/** The seal as NV keeps it (CBOR): nothing in it opens the data without the card and the password. */
interface Seal {
  v: 1;
  salt: Uint8Array;
  rounds: number;
  iv: Uint8Array;
  wrapped: Uint8Array;
}

function refuse(code: 'seal-no-secret' | 'seal-refused' | 'seal-needs-pin', message: string): SyncError {
  return new SyncError('auth-refused', message, code);
}

/** Whether `id` of the FIG. 11-A list is a card-secret entry rather than a terminal ID. */
export function isCardSecretEntry(id: string): boolean {
  return SECRET_ENTRY.test(id);
}

/** The card secret, from the entries of the FIG. 11-A list; undefined when the card has none (or not all). */
async function readCardSecret(card: SimCard): Promise<string | undefined> {
  const parts = new Map<string, string>();
  for (const id of await readTerminalIds(card)) {
    const m = SECRET_ENTRY.exec(id);
    if (m?.[1] !== undefined && m[2] !== undefined) parts.set(m[1], m[2]);
  }
  if (parts.size !== SECRET_ENTRIES) return undefined;
  return ['1', '2', '3'].map((i) => parts.get(i)).join('');
}

function randomDigits(n: number): string {
  // 250 is the largest multiple of 10 under 256: rejection keeps every digit uniform.
  let out = '';
  while (out.length < n) {
    for (const b of globalThis.crypto.getRandomValues(new Uint8Array(n))) {
      if (b < 250 && out.length < n) out += String(b % 10);
    }
  }
  return out;
}

/** The card secret of this SIM, made and written to it if it has none yet (the terminal IDs listed stay). */
async function cardSecret(card: SimCard): Promise<string> {
  const held = await readCardSecret(card);
  if (held !== undefined) return held;
  const secret = randomDigits(SECRET_ENTRIES * DIGITS_PER_ENTRY);
  const entries = [0, 1, 2].map(
    (i) => `#${i + 1}${secret.slice(i * DIGITS_PER_ENTRY, (i + 1) * DIGITS_PER_ENTRY)}`,
  );
  const listed = (await readTerminalIds(card)).filter((id) => !isCardSecretEntry(id));
  await writeTerminalIds(card, [...listed, ...entries]);
  // Read back: a card that dropped a record must not leave the data sealed under a secret it lacks.
  const check = await readCardSecret(card);
  if (check !== secret)
    throw refuse('seal-no-secret', 'the SIM did not keep the card secret: the data was not sealed');
  return secret;
}

async function kek(password: string, secret: string, salt: Uint8Array, rounds: number): Promise<CryptoKey> {
  const material = await globalThis.crypto.subtle.importKey(
    'raw',
    utf8(`${password}\u0000${secret}`),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  return globalThis.crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations: rounds },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['wrapKey', 'unwrapKey'],
  );
}

const wrapAad = (terminalId: string) => utf8(`simsync data key v1\u0000${terminalId}`);

async function requirePin(card: SimCard): Promise<void> {
  const status = await card.pinStatus();
  if (!status.enabled) {
    throw refuse(
      'seal-needs-pin',
      'this SIM has PIN1 disabled: anyone holding it could read the card secret, so it cannot seal the data (enable the PIN on a phone)',
    );
  }
}

/**
 * A new data key for a store that has none: the card secret made (or reused)
 * on the SIM, the data key wrapped under the password and it. Resolves the
 * key and the NV operation that stores the seal (committed with the store's
 * re-encryption, sealed-nv-store.ts `seal`). The card's PIN must be verified.
 */
export async function createDataKey(
  card: SimCard,
  password: string,
  terminalId: string,
): Promise<{ dataKey: CryptoKey; setup: NvOp[] }> {
  await requirePin(card);
  const secret = await cardSecret(card);
  const dataKey = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, [
    'encrypt',
    'decrypt',
  ]);
  const setup = await sealOps(dataKey, password, secret, terminalId);
  // Extractable only until wrapped: the copy in use is not.
  const usable = await rewrapInMemory(dataKey);
  return { dataKey: usable, setup };
}

async function sealOps(
  dataKey: CryptoKey,
  password: string,
  secret: string,
  terminalId: string,
): Promise<NvOp[]> {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const wrapping = await kek(password, secret, salt, ROUNDS);
  const wrapped = await globalThis.crypto.subtle.wrapKey('raw', dataKey, wrapping, {
    name: 'AES-GCM',
    iv,
    additionalData: wrapAad(terminalId),
  });
  const seal: Seal = { v: 1, salt, rounds: ROUNDS, iv, wrapped: new Uint8Array(wrapped) };
  return [{ op: 'put', key: SEAL_KEY, value: encode(seal) }];
}

async function rewrapInMemory(key: CryptoKey): Promise<CryptoKey> {
  const raw = await globalThis.crypto.subtle.exportKey('raw', key);
  return globalThis.crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

function readSeal(bytes: Uint8Array): Seal {
  const seal = decode(bytes) as Partial<Seal>;
  if (
    seal.v !== 1 ||
    !(seal.salt instanceof Uint8Array) ||
    !(seal.iv instanceof Uint8Array) ||
    !(seal.wrapped instanceof Uint8Array) ||
    !Number.isInteger(seal.rounds)
  ) {
    throw refuse('seal-refused', 'the seal of this store is damaged');
  }
  return seal as Seal;
}

/**
 * Unwraps the data key with the SIM in the reader (PIN verified) and the
 * terminal password. Any mismatch (another SIM, a SIM without the secret, a
 * wrong password) is one refusal, 'seal-refused', that says which it cannot
 * tell: AES-GCM only says the key did not unwrap.
 */
export async function openDataKey(
  card: SimCard,
  password: string,
  terminalId: string,
  sealBytes: Uint8Array,
  extractable = false,
): Promise<CryptoKey> {
  const seal = readSeal(sealBytes);
  await requirePin(card);
  const secret = await readCardSecret(card);
  if (secret === undefined) {
    throw refuse(
      'seal-refused',
      "this SIM holds no card secret: it is not the SIM this terminal's data was sealed with",
    );
  }
  try {
    return await globalThis.crypto.subtle.unwrapKey(
      'raw',
      seal.wrapped as Uint8Array<ArrayBuffer>,
      await kek(password, secret, seal.salt, seal.rounds),
      { name: 'AES-GCM', iv: seal.iv as Uint8Array<ArrayBuffer>, additionalData: wrapAad(terminalId) },
      'AES-GCM',
      extractable,
      ['encrypt', 'decrypt'],
    );
  } catch {
    throw refuse('seal-refused', 'the sealed data does not open with this SIM and password');
  }
}

/** The seal's NV operation for a new terminal password (the data key and the card secret unchanged). */
export async function rewrapDataKey(
  card: SimCard,
  oldPassword: string,
  newPassword: string,
  terminalId: string,
  sealBytes: Uint8Array,
): Promise<NvOp[]> {
  const dataKey = await openDataKey(card, oldPassword, terminalId, sealBytes, true);
  const secret = await readCardSecret(card);
  if (secret === undefined) throw refuse('seal-refused', 'the SIM lost its card secret');
  return sealOps(dataKey, newPassword, secret, terminalId);
}
