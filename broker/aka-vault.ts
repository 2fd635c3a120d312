import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The subscribers' card keys at rest (TS 33.102 AKA: K and OPc, 16 bytes
 * each). The sync store holds them only sealed, AES-256-GCM under a server
 * key that lives in the server's configuration, never in the store: a copy of
 * the database alone gives no card key. Each sealed value names its server
 * key (`keyId`) and is bound to its subscriber (the GCM additional data), so
 * a value copied onto another subscriber's row does not open. Rotation:
 * a new key is made current, `simsync admin aka-rotate` re-seals every row
 * under it, and the old key can then leave the key file.
 */

/** Why a keyring or a sealed value was refused. Nothing is changed by a refusal. */
export type AkaVaultErrorKind = 'no-keyring' | 'bad-keyring' | 'unknown-key' | 'damaged';

export class AkaVaultError extends Error {
  override readonly name = 'AkaVaultError';
  constructor(
    readonly kind: AkaVaultErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Server keys by ID (32 bytes each) and the one new values are sealed under. */
export interface AkaKeyring {
  current: string;
  keys: ReadonlyMap<string, Uint8Array>;
}

/** A subscriber's card key, in the clear only in memory, only while a challenge is made. */
export interface CardKey {
  k: Uint8Array;
  opc: Uint8Array;
}

const FORMAT = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/**
 * The key file: `{"current": "<id>", "keys": {"<id>": "<64 hex digits>", …}}`.
 * Refused whole ('bad-keyring') when anything in it is off.
 */
export function parseKeyring(text: string, source = 'the AKA key file'): AkaKeyring {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AkaVaultError('bad-keyring', `${source} is not JSON`);
  }
  const bad = (why: string) => new AkaVaultError('bad-keyring', `${source}: ${why}`);
  if (typeof raw !== 'object' || raw === null) throw bad('expected {"current": …, "keys": {…}}');
  const { current, keys } = raw as { current?: unknown; keys?: unknown };
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw bad('"keys" must be an object');
  const parsed = new Map<string, Uint8Array>();
  for (const [id, hex] of Object.entries(keys)) {
    if (!KEY_ID.test(id))
      throw bad(`key ID ${JSON.stringify(id.slice(0, 64))} is not 1–64 of [A-Za-z0-9._-]`);
    if (typeof hex !== 'string' || !HEX_KEY.test(hex))
      throw bad(`key ${id} must be 64 hex digits (32 bytes)`);
    parsed.set(id, Uint8Array.from(Buffer.from(hex, 'hex')));
  }
  if (typeof current !== 'string' || !parsed.has(current)) throw bad('"current" must name one of "keys"');
  return { current, keys: parsed };
}

/** Reads the key file; its absence is 'no-keyring', with what to do. */
export function loadKeyring(file: string): AkaKeyring {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new AkaVaultError('no-keyring', `cannot read the AKA key file ${file} (${String(code ?? e)})`);
  }
  return parseKeyring(text, file);
}

/** A new server key: 32 random bytes, as the key file writes them. */
export function newServerKey(): string {
  return randomBytes(32).toString('hex');
}

export class AkaVault {
  private keyring: AkaKeyring;

  /**
   * `reload` reads the keyring again (the key file): a sealed value naming a
   * key this vault does not know makes it look once more, so a key added by
   * `admin aka-keygen` is used by a running server without a restart.
   */
  constructor(
    keyring: AkaKeyring,
    private readonly reload?: () => AkaKeyring,
  ) {
    this.keyring = keyring;
  }

  /** The vault of a key file, read now and again when a value names a key it lacks. */
  static fromFile(file: string): AkaVault {
    return new AkaVault(loadKeyring(file), () => loadKeyring(file));
  }

  get currentKeyId(): string {
    return this.keyring.current;
  }

  /** K ‖ OPc sealed for `subscriber` under the current server key. */
  seal(subscriber: string, key: CardKey): { keyId: string; sealed: Uint8Array } {
    if (key.k.length !== 16 || key.opc.length !== 16) {
      throw new AkaVaultError('damaged', 'K and OPc must be 16 bytes each');
    }
    const keyId = this.keyring.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.serverKey(keyId), nonce);
    cipher.setAAD(additionalData(subscriber, keyId));
    const body = Buffer.concat([cipher.update(key.k), cipher.update(key.opc), cipher.final()]);
    const sealed = Buffer.concat([Buffer.of(FORMAT), nonce, body, cipher.getAuthTag()]);
    return { keyId, sealed: Uint8Array.from(sealed) };
  }

  /** Opens a sealed value of `subscriber`; 'unknown-key' or 'damaged' when it cannot. */
  open(subscriber: string, keyId: string, sealed: Uint8Array): CardKey {
    if (sealed.length !== 1 + NONCE_BYTES + 32 + TAG_BYTES || sealed[0] !== FORMAT) {
      throw new AkaVaultError('damaged', `the AKA key of ${subscriber} is not a sealed value`);
    }
    const bytes = Buffer.from(sealed);
    const decipher = createDecipheriv(
      'aes-256-gcm',
      this.serverKey(keyId),
      bytes.subarray(1, 1 + NONCE_BYTES),
    );
    decipher.setAAD(additionalData(subscriber, keyId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    let clear: Buffer;
    try {
      clear = Buffer.concat([
        decipher.update(bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new AkaVaultError(
        'damaged',
        `the AKA key of ${subscriber} does not open under server key ${keyId}`,
      );
    }
    return { k: Uint8Array.from(clear.subarray(0, 16)), opc: Uint8Array.from(clear.subarray(16, 32)) };
  }

  private serverKey(keyId: string): Uint8Array {
    if (!this.keyring.keys.has(keyId) && this.reload) this.keyring = this.reload();
    const key = this.keyring.keys.get(keyId);
    if (key === undefined) {
      throw new AkaVaultError(
        'unknown-key',
        `server key ${keyId} is not in the AKA key file (removed before aka-rotate?)`,
      );
    }
    return key;
  }
}

function additionalData(subscriber: string, keyId: string): Buffer {
  return Buffer.from(`simsync aka v${FORMAT}\0${subscriber}\0${keyId}`, 'utf8');
}
