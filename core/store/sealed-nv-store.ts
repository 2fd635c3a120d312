import { HalError, type NvEntry, type NvOp, type NvStore } from '../../hal/index.js';
import { utf8 } from '../bytes.js';

/**
 * The personal data sealed at rest (issue 19): an NvStore in front of the
 * terminal's own that encrypts the values of the personal-data keys with
 * AES-256-GCM (Web Crypto, so core/ stays portable) under the data key,
 * which is in memory only while the owner's SIM is in (core/auth/data-key.ts
 * says how it is unwrapped). Keys stay in the clear (the store's order and
 * prefix scans need them); each value is bound to its key as the GCM
 * additional data, so values cannot be swapped between keys unnoticed.
 *
 * A store is either plain (no seal set up: everything passes through, as
 * before) or sealed (`SEAL_KEY` present). Sealed and closed, a read or write
 * of a sealed key rejects 'device-unavailable' and changes nothing; deletes
 * need no key. Sealed values: `53 01 | IV (12) | ciphertext ‖ tag (16)`.
 */

/** Where the wrapped data key and its parameters live (clear: they open nothing without SIM, PIN and password). */
export const SEAL_KEY = 'k/seal';

/** The personal-data keys (core/store/stored-record.ts): records, set-aside reasons, fetches in progress, the batch in flight. */
export const PERSONAL_PREFIXES = ['r/', 'a/', 'p/', 'q/'] as const;
export const PERSONAL_KEYS = ['m/batch'] as const;

const MAGIC = 0x53;
const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export const SEALED_MESSAGE =
  'the personal data is sealed: insert the SIM (its PIN and the terminal password open it)';

export interface SealedNvStoreOptions {
  /** Which keys are sealed; default the personal data (PERSONAL_PREFIXES, PERSONAL_KEYS). */
  isSealedKey?: (key: string) => boolean;
}

export class SealedNvStore implements NvStore {
  #dataKey: CryptoKey | undefined;
  #sealed = false;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #isSealedKey: (key: string) => boolean;

  private constructor(
    readonly inner: NvStore,
    options: SealedNvStoreOptions,
  ) {
    this.#isSealedKey = options.isSealedKey ?? isPersonalKey;
  }

  /** The store over `inner`, sealed when `inner` holds a seal. */
  static async over(inner: NvStore, options: SealedNvStoreOptions = {}): Promise<SealedNvStore> {
    const store = new SealedNvStore(inner, options);
    store.#sealed = (await inner.get(SEAL_KEY)) !== undefined;
    return store;
  }

  /** A seal is set up: personal data is stored encrypted. */
  get sealed(): boolean {
    return this.#sealed;
  }

  /** The data key is in memory: sealed data can be read and written. */
  get open(): boolean {
    return this.#dataKey !== undefined;
  }

  /** Opens the store with its data key (unwrapped by data-key.ts). */
  unlock(dataKey: CryptoKey): void {
    this.#dataKey = dataKey;
  }

  /** Drops the data key ([0023]: the SIM is out); the sealed data stays closed until the next unlock. */
  lock(): void {
    this.#dataKey = undefined;
  }

  /**
   * Seals a plain store: `setup` (the seal's own entry) and every personal
   * value, re-encrypted under `dataKey`, in one commit, so a power cut
   * leaves the store all plain or all sealed.
   */
  async seal(dataKey: CryptoKey, setup: NvOp[]): Promise<number> {
    return this.#serial(async () => {
      if (this.#sealed) throw new HalError('other', 'this store is sealed already');
      const personal = (await this.inner.scan('')).filter((e) => this.#isSealedKey(e.key));
      const ops = await Promise.all(
        personal.map(
          async (e): Promise<NvOp> => ({
            op: 'put',
            key: e.key,
            value: await encrypt(dataKey, e.key, e.value),
          }),
        ),
      );
      await this.inner.commit([...setup, ...ops]);
      this.#sealed = true;
      this.#dataKey = dataKey;
      return ops.length;
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.inner.get(key);
    if (value === undefined || !this.#sealedHere(key)) return value;
    return decrypt(this.#key(), key, value);
  }

  async scan(prefix: string): Promise<NvEntry[]> {
    const entries = await this.inner.scan(prefix);
    if (!this.#sealed) return entries;
    // Web Crypto works off the main thread: the values open side by side, in the scan's order.
    return Promise.all(
      entries.map(async ({ key, value }) => ({
        key,
        value: this.#isSealedKey(key) ? await decrypt(this.#key(), key, value) : value,
      })),
    );
  }

  commit(batch: readonly NvOp[]): Promise<void> {
    // In call order, as the store promises, though encryption is asynchronous.
    return this.#serial(async () => {
      if (!this.#sealed) return this.inner.commit(batch);
      const unsealed = batch.some((op) => op.op === 'del' && op.key === SEAL_KEY);
      const out = await Promise.all(
        batch.map(
          async (op): Promise<NvOp> =>
            op.op === 'put' && this.#isSealedKey(op.key)
              ? { op: 'put', key: op.key, value: await encrypt(this.#key(), op.key, op.value) }
              : op,
        ),
      );
      await this.inner.commit(out);
      if (unsealed) {
        // A factory erase: the seal is gone with the data; what is written next is plain.
        this.#sealed = false;
        this.#dataKey = undefined;
      }
    });
  }

  #sealedHere(key: string): boolean {
    return this.#sealed && this.#isSealedKey(key);
  }

  #key(): CryptoKey {
    if (this.#dataKey === undefined) throw new HalError('device-unavailable', SEALED_MESSAGE);
    return this.#dataKey;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

export function isPersonalKey(key: string): boolean {
  return (
    PERSONAL_PREFIXES.some((p) => key.startsWith(p)) || (PERSONAL_KEYS as readonly string[]).includes(key)
  );
}

async function encrypt(dataKey: CryptoKey, key: string, value: Uint8Array): Promise<Uint8Array> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8(key) },
    dataKey,
    value as Uint8Array<ArrayBuffer>,
  );
  const out = new Uint8Array(2 + IV_BYTES + sealed.byteLength);
  out[0] = MAGIC;
  out[1] = FORMAT;
  out.set(iv, 2);
  out.set(new Uint8Array(sealed), 2 + IV_BYTES);
  return out;
}

async function decrypt(dataKey: CryptoKey, key: string, value: Uint8Array): Promise<Uint8Array> {
  if (value.length < 2 + IV_BYTES + TAG_BYTES || value[0] !== MAGIC || value[1] !== FORMAT) {
    throw new HalError('store-corrupt', `${key}: not a sealed value`);
  }
  try {
    const clear = await globalThis.crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: value.slice(2, 2 + IV_BYTES), additionalData: utf8(key) },
      dataKey,
      value.slice(2 + IV_BYTES),
    );
    return new Uint8Array(clear);
  } catch {
    // Another data key, a flipped bit, a value moved from another key: the store cannot vouch for it.
    throw new HalError(
      'store-corrupt',
      `${key}: sealed value does not open (damaged, or another terminal's)`,
    );
  }
}
