import { encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import type { Category } from '../protocol/index.js';
import type { IncomingChange } from './local-record.js';
import {
  CATCH_UP_KEY,
  CLOCK_KEY,
  isDirty,
  readHlc,
  readStored,
  storeServerVersion,
} from './stored-record.js';

/** [0033]/[0043]: categories whose server data before `upTo` still has to come down. */
export interface CatchUp {
  categories: Category[];
  after: number;
  upTo: number;
}

interface Applicable {
  ops: NvOp[];
  applied: IncomingChange[];
}

/**
 * The server versions to apply: a record with an unacknowledged local edit
 * keeps it (the server resolves the conflict on the next upload, [0068]),
 * and one whose held version `isCurrent` is not applied again.
 */
async function applicable(
  nv: NvStore,
  changes: readonly IncomingChange[],
  isCurrent: (heldSeq: number, change: IncomingChange) => boolean,
): Promise<Applicable> {
  const out: Applicable = { ops: [], applied: [] };
  for (const change of changes) {
    if (await isDirty(nv, change.category, change.id)) continue;
    const held = await readStored(nv, change.category, change.id);
    if (held !== undefined && isCurrent(held.s, change)) continue;
    out.ops.push(...storeServerVersion(change));
    out.applied.push(change);
  }
  return out;
}

/** A download page, its anchor under `anchorKey` and the clock it advances, as one commit. */
export async function downloadOps(
  nv: NvStore,
  changes: readonly IncomingChange[],
  anchor: number,
  anchorKey: string,
): Promise<Applicable> {
  const ops: NvOp[] = [{ op: 'put', key: anchorKey, value: encode(anchor) }];
  const clock = Math.max(await readHlc(nv), ...changes.map((c) => c.editedAt));
  if (changes.length > 0) ops.push({ op: 'put', key: CLOCK_KEY, value: encode(clock) });
  // A version already held (same server sequence) is not applied again.
  const found = await applicable(nv, changes, (seq, change) => seq === change.seq);
  return { ops: [...ops, ...found.ops], applied: found.applied };
}

/** A catch-up page and the catch-up's progress (deleted with its last page), as one commit. */
export async function catchUpOps(
  nv: NvStore,
  changes: readonly IncomingChange[],
  catchUp: CatchUp,
  next: number,
): Promise<Applicable> {
  // Only what is missing or older: a newer version may already be here from the anchor's download.
  const found = await applicable(nv, changes, (seq, change) => seq >= change.seq);
  found.ops.push(
    next >= catchUp.upTo
      ? { op: 'del', key: CATCH_UP_KEY }
      : { op: 'put', key: CATCH_UP_KEY, value: encode({ ...catchUp, after: next }) },
  );
  return found;
}

/**
 * Categories added (or whose filters were loosened) need their older server
 * data: everything up to the current anchor, which already passed it.
 * Undefined when there is nothing to catch up on (nothing downloaded yet).
 */
export function widenedCatchUp(
  anchor: number,
  current: CatchUp | undefined,
  categories: readonly Category[],
): CatchUp | undefined {
  if (anchor === 0 && current === undefined) return undefined;
  // A catch-up still running restarts from 0 with the union: simple, and each version is applied once.
  const merged = [...new Set([...(current?.categories ?? []), ...categories])];
  return { categories: merged, after: 0, upTo: Math.max(anchor, current?.upTo ?? 0) };
}
