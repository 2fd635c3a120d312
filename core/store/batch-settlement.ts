import { decode, encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import type { Category } from '../protocol/index.js';
import type { IncomingChange, LocalRecord } from './local-record.js';
import { readValue } from './nv-value.js';
import {
  ANCHOR_KEY,
  asideKey,
  BATCH_ID_KEY,
  BATCH_KEY,
  CLOCK_KEY,
  dirtyKey,
  type HeldRecord,
  putSeq,
  readHlc,
  readStored,
  recordKey,
  seqKey,
  storeServerVersion,
} from './stored-record.js';

export interface PendingBatch {
  id: number;
  /** What was sent: the records and the edit each carried. */
  items: { category: Category; id: string; editedAt: number }[];
}

/**
 * How an acknowledged change settles locally; 'retry': the server applied
 * nothing of it and it may succeed later as it is (a staged body that
 * expired, [0094]), so it stays dirty.
 */
export type AckOutcome =
  | { kind: 'applied'; seq: number }
  | { kind: 'lost'; winner?: IncomingChange }
  | { kind: 'set-aside'; reason: string }
  | { kind: 'retry' };

/** A batch about to be sent, under a fresh id, and the commit that records it before it leaves. */
export async function newBatch(
  nv: NvStore,
  records: readonly LocalRecord[],
): Promise<{ batch: PendingBatch; ops: NvOp[] }> {
  const batch: PendingBatch = {
    id: ((await readValue<number>(nv, BATCH_ID_KEY)) ?? 0) + 1,
    items: records.map((r) => ({ category: r.category, id: r.id, editedAt: r.editedAt })),
  };
  const ops: NvOp[] = [
    { op: 'put', key: BATCH_ID_KEY, value: encode(batch.id) },
    { op: 'put', key: BATCH_KEY, value: encodeBatch(batch) },
  ];
  return { batch, ops };
}

/** m/batch's items as rows: [category, id, editedAt]. */
type BatchRow = [Category, string, number];

/**
 * m/batch as CBOR [id, [category, id, editedAt], …] (~28 bytes for one
 * record). The map form written before, { id, items: [{ category, id,
 * editedAt }] } (~59 bytes), spelled every field name once per item; a batch
 * left in flight in that form by an earlier version still reads and settles.
 */
function encodeBatch(batch: PendingBatch): Uint8Array {
  return encode([batch.id, ...batch.items.map((i): BatchRow => [i.category, i.id, i.editedAt])]);
}

export function decodeBatch(raw: Uint8Array): PendingBatch {
  const value = decode(raw) as PendingBatch | [number, ...BatchRow[]];
  if (!Array.isArray(value)) return value;
  const [id, ...rows] = value;
  return { id, items: rows.map(([category, record, editedAt]) => ({ category, id: record, editedAt })) };
}

/**
 * The one commit that settles an acknowledged batch: dirty flags clear in the
 * same commit that records the acknowledgement (DESIGN.md "Sync model"). A
 * record edited again while the batch was in flight stays dirty, on the new base.
 */
export async function settlementOps(
  nv: NvStore,
  batch: PendingBatch,
  outcomes: readonly AckOutcome[],
  anchor?: number,
): Promise<NvOp[]> {
  const ops: NvOp[] = [{ op: 'del', key: BATCH_KEY }];
  const winners: number[] = [];
  if (anchor !== undefined) ops.push({ op: 'put', key: ANCHOR_KEY, value: encode(anchor) });
  for (const [i, item] of batch.items.entries()) {
    const outcome = outcomes[i];
    if (outcome === undefined) continue;
    const current = await readStored(nv, item.category, item.id);
    const unchanged = current !== undefined && current.t === item.editedAt;
    ops.push(...settleOne(item.category, item.id, current, unchanged, outcome));
    if (outcome.kind === 'lost' && outcome.winner) winners.push(outcome.winner.editedAt);
  }
  if (winners.length > 0) {
    ops.push({ op: 'put', key: CLOCK_KEY, value: encode(Math.max(await readHlc(nv), ...winners)) });
  }
  return ops;
}

function settleOne(
  category: Category,
  id: string,
  current: HeldRecord | undefined,
  unchanged: boolean,
  outcome: AckOutcome,
): NvOp[] {
  switch (outcome.kind) {
    case 'applied': {
      if (current === undefined) return [];
      // Only the base changes: the record itself (body and all) is not rewritten.
      const rebase = putSeq(category, id, outcome.seq);
      // Edited again in flight: stays dirty, now based on what the server holds.
      if (!unchanged) return [rebase];
      const clear: NvOp = { op: 'del', key: dirtyKey(category, id) };
      if (current.b !== null) return [clear, rebase];
      // An acknowledged deletion: the tombstone and its base go.
      return [clear, { op: 'del', key: recordKey(category, id) }, { op: 'del', key: seqKey(category, id) }];
    }
    case 'lost':
      if (!unchanged) return [];
      if (outcome.winner === undefined) {
        // The winner comes with the next download; until then the local version stays, clean.
        return [{ op: 'del', key: dirtyKey(category, id) }];
      }
      return [{ op: 'del', key: dirtyKey(category, id) }, ...storeServerVersion(outcome.winner)];
    case 'set-aside':
      if (!unchanged) return [];
      return asideOps(category, id, outcome.reason);
    case 'retry':
      return [];
  }
}

/** The operations that set a change aside: no longer dirty, kept with the reason until edited again. */
export function asideOps(category: Category, id: string, reason: string): NvOp[] {
  return [
    { op: 'del', key: dirtyKey(category, id) },
    { op: 'put', key: asideKey(category, id), value: new TextEncoder().encode(reason) },
  ];
}
