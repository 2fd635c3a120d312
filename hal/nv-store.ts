import type { HalErrorKind } from './errors.js';

/** What an NvStore rejects with. */
export type StoreErrorKind = Extract<
  HalErrorKind,
  'store-corrupt' | 'no-space' | 'power-lost' | 'busy' | 'device-unavailable' | 'other'
>;

/**
 * Nonvolatile key/value store (flash memory 6 of FIG. 3): the personal
 * information storage area 6a and subscriber ID registration area 6b live here.
 *
 * Promises:
 * - `commit(batch)` is atomic across power loss: after a crash at any moment
 *   either every operation of the batch is visible or none is. Batches become
 *   durable in the order their commits resolved; a resolved commit survives
 *   power loss.
 * - `get` and `scan` see exactly the committed state (no partial batch).
 * - Corruption detected on read (checksum, structure) rejects with HalError
 *   'store-corrupt'; the store never returns bytes it cannot vouch for.
 * - A commit that fails (power lost, no space) leaves the previous state.
 * - Every rejection is a HalError of a StoreErrorKind.
 */
export type NvOp = { op: 'put'; key: string; value: Uint8Array } | { op: 'del'; key: string };

export interface NvEntry {
  key: string;
  value: Uint8Array;
}

export interface NvStore {
  get(key: string): Promise<Uint8Array | undefined>;
  /** All entries whose key starts with `prefix`, sorted by key (UTF-16 code unit order). */
  scan(prefix: string): Promise<NvEntry[]>;
  /** Applies the batch atomically. An empty batch is a no-op that still resolves. */
  commit(batch: readonly NvOp[]): Promise<void>;
}
