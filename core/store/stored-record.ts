import { decode, encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import type { Category, RecordMeta } from '../protocol/index.js';
import type { IncomingChange, LocalRecord, Stub } from './local-record.js';
import { readValue } from './nv-value.js';

/**
 * The NV layout of area 6a (one NV entry per key, so a change rewrites only its own record):
 *   r/<category>/<id>   the record: body (null = deleted, not yet acknowledged), editedAt, meta, stub
 *   s/<category>/<id>   its base: the server sequence it derives from (absent = 0, never on the
 *                       server); its own key so an acknowledgement does not rewrite the body
 *   x/<category>/<id>   dirty marker: a local change the server has not acknowledged
 *   a/<category>/<id>   set-aside marker: a change the server rejected, with the reason
 *   m/anchor            the last server sequence applied here
 *   m/ahead/<category>  [0043] a category downloaded on access past the anchor, up to here
 *   m/catch-up          categories added (or filters loosened) after the anchor passed their data
 *   m/batch             the upload batch in flight, as rows [id, [category, id, editedAt], …] (batch-settlement.ts; for an idempotent resend after power loss)
 *   m/batch-id          the last batch id used
 *   m/clock             the hybrid logical clock: the latest edit time seen here or on the server
 * The p/ and q/ keys of a fetch in progress are PartialFetches' (partial-fetches.ts).
 */
export const recordKey = (c: Category, id: string) => `r/${c}/${id}`;
export const seqKey = (c: Category, id: string) => `s/${c}/${id}`;
export const dirtyKey = (c: Category, id: string) => `x/${c}/${id}`;
export const asideKey = (c: Category, id: string) => `a/${c}/${id}`;
export const aheadKey = (c: Category) => `m/ahead/${c}`;
export const ANCHOR_KEY = 'm/anchor';
export const CATCH_UP_KEY = 'm/catch-up';
export const BATCH_KEY = 'm/batch';
export const BATCH_ID_KEY = 'm/batch-id';
export const CLOCK_KEY = 'm/clock';
/** Every per-record prefix a category's data lives under (FIG. 20 S86 erases them all). */
export const CATEGORY_PREFIXES = ['r/', 's/', 'x/', 'a/', 'p/', 'q/'] as const;

export function splitKey(key: string): { category: Category; id: string } {
  const second = key.indexOf('/', 2);
  return { category: key.slice(2, second) as Category, id: key.slice(second + 1) };
}

/** A record as CBOR in NV: short field names, since there may be tens of thousands. */
export interface StoredRecord {
  b: Uint8Array | null;
  t: number;
  m?: RecordMeta;
  z?: Stub;
}

/** A record as read back: what r/ holds, with its base `s` from s/. */
export interface HeldRecord extends StoredRecord {
  s: number;
}

/** The value of r/: exactly the StoredRecord fields (a HeldRecord's `s` stays in s/). */
export function encodeStored(record: StoredRecord): Uint8Array {
  const out: StoredRecord = { b: record.b, t: record.t };
  if (record.m !== undefined) out.m = record.m;
  if (record.z !== undefined) out.z = record.z;
  return encode(out);
}

/** A record's r/ value and s/ value (undefined: none) as the HeldRecord they make. */
export function decodeHeld(raw: Uint8Array, seq: Uint8Array | undefined): HeldRecord {
  const { b, t, m, z } = decode(raw) as StoredRecord;
  const held: HeldRecord = { b, s: seq === undefined ? 0 : (decode(seq) as number), t };
  if (m !== undefined) held.m = m;
  if (z !== undefined) held.z = z;
  return held;
}

export async function readStored(
  nv: NvStore,
  category: Category,
  id: string,
): Promise<HeldRecord | undefined> {
  const raw = await nv.get(recordKey(category, id));
  if (raw === undefined) return undefined;
  return decodeHeld(raw, await nv.get(seqKey(category, id)));
}

export async function isDirty(nv: NvStore, category: Category, id: string): Promise<boolean> {
  return (await nv.get(dirtyKey(category, id))) !== undefined;
}

export function toLocal(category: Category, id: string, stored: HeldRecord, dirty: boolean): LocalRecord {
  const record: LocalRecord = { category, id, body: stored.b, base: stored.s, editedAt: stored.t, dirty };
  if (stored.m !== undefined) record.meta = stored.m;
  if (stored.z !== undefined) record.stub = stored.z;
  return record;
}

/** The operation that records a record's base (the server sequence it derives from). */
export function putSeq(category: Category, id: string, seq: number): NvOp {
  return { op: 'put', key: seqKey(category, id), value: encode(seq) };
}

/** The operations that forget a record outright (it never reached the server). */
export function forgetOps(category: Category, id: string): NvOp[] {
  return [
    { op: 'del', key: recordKey(category, id) },
    { op: 'del', key: seqKey(category, id) },
    { op: 'del', key: dirtyKey(category, id) },
    { op: 'del', key: asideKey(category, id) },
  ];
}

/** The operations that make a server version the record held here: the record and its base. */
export function storeServerVersion(change: IncomingChange): NvOp[] {
  const { category, id } = change;
  if (change.body === null) {
    return [
      { op: 'del', key: recordKey(category, id) },
      { op: 'del', key: seqKey(category, id) },
    ];
  }
  const stored: StoredRecord = { b: change.body, t: change.editedAt, m: change.meta, z: change.stub };
  return [
    { op: 'put', key: recordKey(category, id), value: encodeStored(stored) },
    putSeq(category, id, change.seq),
  ];
}

/** The hybrid logical clock's last value (0 before any edit or download). */
export async function readHlc(nv: NvStore): Promise<number> {
  return (await readValue<number>(nv, CLOCK_KEY)) ?? 0;
}
