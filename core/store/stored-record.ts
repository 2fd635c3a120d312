import { decode, encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import type { Category, RecordMeta } from '../protocol/index.js';
import type { IncomingChange, LocalRecord, Stub } from './local-record.js';
import { readValue } from './nv-value.js';

/**
 * The NV layout of area 6a (one NV entry per key, so a change rewrites only its own record):
 *   r/<category>/<id>   the record: body (null = deleted, not yet acknowledged), base seq, editedAt
 *   x/<category>/<id>   dirty marker: a local change the server has not acknowledged
 *   a/<category>/<id>   set-aside marker: a change the server rejected, with the reason
 *   m/anchor            the last server sequence applied here
 *   m/ahead/<category>  [0043] a category downloaded on access past the anchor, up to here
 *   m/catch-up          categories added (or filters loosened) after the anchor passed their data
 *   m/batch             the upload batch in flight (for an idempotent resend after power loss)
 *   m/batch-id          the last batch id used
 *   m/clock             the hybrid logical clock: the latest edit time seen here or on the server
 * The p/ and q/ keys of a fetch in progress are PartialFetches' (partial-fetches.ts).
 */
export const recordKey = (c: Category, id: string) => `r/${c}/${id}`;
export const dirtyKey = (c: Category, id: string) => `x/${c}/${id}`;
export const asideKey = (c: Category, id: string) => `a/${c}/${id}`;
export const aheadKey = (c: Category) => `m/ahead/${c}`;
export const ANCHOR_KEY = 'm/anchor';
export const CATCH_UP_KEY = 'm/catch-up';
export const BATCH_KEY = 'm/batch';
export const BATCH_ID_KEY = 'm/batch-id';
export const CLOCK_KEY = 'm/clock';
/** Every per-record prefix a category's data lives under (FIG. 20 S86 erases them all). */
export const CATEGORY_PREFIXES = ['r/', 'x/', 'a/', 'p/', 'q/'] as const;

export function splitKey(key: string): { category: Category; id: string } {
  const second = key.indexOf('/', 2);
  return { category: key.slice(2, second) as Category, id: key.slice(second + 1) };
}

/** A record as CBOR in NV: short field names, since there may be tens of thousands. */
export interface StoredRecord {
  b: Uint8Array | null;
  s: number;
  t: number;
  m?: RecordMeta;
  z?: Stub;
}

export const decodeStored = (raw: Uint8Array) => decode(raw) as StoredRecord;

export function readStored(nv: NvStore, category: Category, id: string): Promise<StoredRecord | undefined> {
  return readValue<StoredRecord>(nv, recordKey(category, id));
}

export async function isDirty(nv: NvStore, category: Category, id: string): Promise<boolean> {
  return (await nv.get(dirtyKey(category, id))) !== undefined;
}

export function toLocal(category: Category, id: string, stored: StoredRecord, dirty: boolean): LocalRecord {
  const record: LocalRecord = { category, id, body: stored.b, base: stored.s, editedAt: stored.t, dirty };
  if (stored.m !== undefined) record.meta = stored.m;
  if (stored.z !== undefined) record.stub = stored.z;
  return record;
}

/** The operations that forget a record outright (it never reached the server). */
export function forgetOps(category: Category, id: string): NvOp[] {
  return [
    { op: 'del', key: recordKey(category, id) },
    { op: 'del', key: dirtyKey(category, id) },
    { op: 'del', key: asideKey(category, id) },
  ];
}

/** The operations that make a server version the record held here. */
export function storeServerVersion(change: IncomingChange): NvOp[] {
  const key = recordKey(change.category, change.id);
  if (change.body === null) return [{ op: 'del', key }];
  const stored: StoredRecord = { b: change.body, s: change.seq, t: change.editedAt };
  if (change.meta !== undefined) stored.m = change.meta;
  if (change.stub !== undefined) stored.z = change.stub;
  return [{ op: 'put', key, value: encode(stored) }];
}

/** The hybrid logical clock's last value (0 before any edit or download). */
export async function readHlc(nv: NvStore): Promise<number> {
  return (await readValue<number>(nv, CLOCK_KEY)) ?? 0;
}
