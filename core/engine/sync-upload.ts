import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import {
  categoryCode,
  MAX_BATCH_CHANGES,
  MAX_MESSAGE_BYTES,
  toWireMeta,
  type UploadAck,
  WireChange,
} from '../protocol/index.js';
import type { AckOutcome, LocalRecord, PendingBatch } from '../store/record-store.js';
import { toIncoming } from './incoming-change.js';
import type { RunContext, UploadResult } from './run-context.js';
import {
  isLarge,
  type LargeRecord,
  refusedAsTooLarge,
  stageBody,
  stubOf,
  underRefused,
} from './upload-parts.js';

const bodySize = (r: { body: Uint8Array | null }) => r.body?.length ?? 0;

/** What a batch's changes may take on the wire, framing included: well under any message limit. */
const BATCH_WIRE_BYTES = MAX_MESSAGE_BYTES / 2;
/** CBOR framing of a change beyond its id and body, and of its meta, rounded up (as the server counts). */
const CHANGE_OVERHEAD = 40;
const META_OVERHEAD = 400;

/**
 * The next batch from `records[from]`: at most `cap` bytes of bodies, within
 * the protocol's bounds; it ends before a record whose body goes in parts.
 */
function nextBatch(ctx: RunContext, records: LocalRecord[], from: number, cap: number): LocalRecord[] {
  const group: LocalRecord[] = [];
  let bytes = 0;
  let wire = 0;
  for (let i = from; i < records.length && group.length < MAX_BATCH_CHANGES; i++) {
    const record = records[i] as LocalRecord;
    if (isLarge(ctx, record)) break;
    const size = bodySize(record);
    const framed = size + 3 * record.id.length + CHANGE_OVERHEAD + (record.meta ? META_OVERHEAD : 0);
    if (bytes + size > cap || wire + framed > BATCH_WIRE_BYTES) break;
    group.push(record);
    bytes += size;
    wire += framed;
  }
  return group;
}

/**
 * Uploads every dirty record of the terminal's categories (FIG. 9 S16, FIG.
 * 10-B S34, FIG. 16 "uploaded at the time the SIM card is demounted"). A batch
 * left in flight by a power cut is resent first under its own id, so the
 * server applies it once. A body larger than a batch goes up in parts first
 * ([0094], upload-parts.ts). Within limits ([0085]) it stops before the first
 * batch that would not fit; what is left stays dirty for the next sync.
 *
 * One bad record never stalls the rest: a change the server refuses (or that
 * could not be put on the wire) is set aside with a notice, and the others
 * go on; a later edit of it tries again.
 */
export async function uploadDirty(
  ctx: RunContext,
  result: UploadResult = { uploaded: [], conflicts: [], setAside: [] },
): Promise<UploadResult> {
  ctx.budget.phase();
  const leftover = await ctx.store.pendingBatch();
  if (leftover !== undefined && !(await resendLeftover(ctx, leftover, result))) return result;
  const dirty = await ctx.store.dirty(ctx.categories);
  for (let i = 0; i < dirty.length; ) {
    const allowance = ctx.budget.upAllowance();
    if (allowance === 0) break;
    const record = dirty[i] as LocalRecord;
    if (isLarge(ctx, record)) {
      if (!(await uploadLarge(ctx, record, result))) break;
      i++;
      continue;
    }
    const group = nextBatch(ctx, dirty, i, Math.min(ctx.batchBytes, allowance, underRefused(ctx)));
    if (group.length === 0) {
      ctx.budget.refuseUp();
      break;
    }
    await sendGroup(ctx, group, result);
    ctx.budget.up += group.reduce((n, r) => n + bodySize(r), 0);
    i += group.length;
  }
  return result;
}

/**
 * The batch a power cut or a lost acknowledgement left in flight, settled
 * before anything comes down: until the server says whether it applied it, a
 * newer version of one of its records can be neither applied here (over an
 * edit perhaps not on the server) nor skipped (the anchor would pass it, and
 * an ack answered from the server's record of the batch brings no winner).
 * Resolves false when the budget keeps it in flight.
 */
export async function settleLeftover(ctx: RunContext, result: UploadResult): Promise<boolean> {
  const leftover = await ctx.store.pendingBatch();
  return leftover === undefined || resendLeftover(ctx, leftover, result);
}

/** The batch a power cut left in flight, sent again under its id; false when the budget stops the upload. */
async function resendLeftover(ctx: RunContext, batch: PendingBatch, result: UploadResult): Promise<boolean> {
  const records: LocalRecord[] = [];
  for (const item of batch.items) {
    const record = await ctx.store.get(item.category, item.id);
    if (record !== undefined) records.push(record);
  }
  const inline = records.filter((r) => !isLarge(ctx, r)).reduce((n, r) => n + bodySize(r), 0);
  if (inline > ctx.budget.upAllowance()) {
    ctx.budget.refuseUp();
    return false;
  }
  // Sent as it is, parts not first: if the server applied it before the cut, it answers from
  // its stored ack and needs none; if not, a body it does not hold whole comes back
  // 'not-staged', and the record goes again among the dirty ones.
  try {
    await sendBatch(ctx, batch, result);
  } catch (e) {
    if (!isBatchRefusal(e)) throw e;
    // Nothing of it was applied: its records are still dirty and go again in other batches.
    await ctx.store.dropBatch(batch);
  }
  ctx.budget.up += inline;
  return true;
}

/** [0094]: a large record's parts, then its batch; false when the budget ran out on the way. */
async function uploadLarge(ctx: RunContext, record: LargeRecord, result: UploadResult): Promise<boolean> {
  const staged = await stageBody(ctx, record);
  if (staged.kind === 'stopped') return false;
  if (staged.kind === 'refused') await setAside(ctx, record, staged.reason, result);
  else await sendGroup(ctx, [record], result);
  return true;
}

/** Sends a group of records, first setting aside any the protocol could not carry. */
async function sendGroup(ctx: RunContext, group: LocalRecord[], result: UploadResult): Promise<void> {
  const sendable: LocalRecord[] = [];
  for (const record of group) {
    const problem = unsendable(ctx, record);
    if (problem === undefined) sendable.push(record);
    else await setAside(ctx, record, problem, result);
  }
  if (sendable.length > 0) await sendSplitting(ctx, sendable, result);
}

/**
 * One batch; refused as a whole (by a server whose limits are tighter than
 * ours), it is split in halves until the record it cannot take stands alone,
 * and that one is set aside. Refused as too large, what the server's smaller
 * messages make a large record (over half the bytes refused) goes in parts
 * instead.
 */
async function sendSplitting(ctx: RunContext, records: LocalRecord[], result: UploadResult): Promise<void> {
  const batch = await ctx.store.beginBatch(records);
  try {
    // The versions the batch's items name, not read again: an edit since stays dirty and goes next.
    await sendBatch(ctx, batch, result, records);
  } catch (e) {
    if (!isBatchRefusal(e)) throw e;
    if (e.code === 'too-large')
      refusedAsTooLarge(
        ctx,
        records.reduce((n, r) => n + bodySize(r), 0),
      );
    const [only] = records;
    if (records.length === 1 && only !== undefined && !isLarge(ctx, only)) {
      await setAside(ctx, only, e.message, result, batch);
      return;
    }
    await ctx.store.dropBatch(batch);
    // What is too large for the server's messages now goes in parts; the rest in halves.
    const rest: LocalRecord[] = [];
    for (const record of records) {
      if (!isLarge(ctx, record)) rest.push(record);
      else if (!(await uploadLarge(ctx, record, result))) return;
    }
    const half = Math.ceil(rest.length / 2);
    if (half > 0) await sendSplitting(ctx, rest.slice(0, half), result);
    if (rest.length > half) await sendSplitting(ctx, rest.slice(half), result);
  }
}

/** An error reply to an upload: nothing of the batch was applied, and its content is to blame. */
function isBatchRefusal(e: unknown): e is SyncError {
  return (
    e instanceof SyncError &&
    e.kind === 'server-refused' &&
    (e.code === 'malformed' || e.code === 'too-large')
  );
}

/** Why a record's change could not go on the wire (an id too long, a meta out of bounds), if it cannot. */
function unsendable(ctx: RunContext, record: LocalRecord): string | undefined {
  const stub = { size: bodySize(record), hash: new Uint8Array(32) };
  const parsed = WireChange.safeParse(changeOf(record, isLarge(ctx, record) ? stub : undefined));
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  const field = ['category', 'id', 'base', 'editedAt', 'body', 'meta'][Number(issue?.path[0])] ?? 'change';
  return `cannot be sent: ${[field, ...(issue?.path.slice(1) ?? [])].join('.')}: ${issue?.message}`;
}

/** Sets a change aside (with the notice of [0068]'s "nothing is silently lost"), unless edited since. */
async function setAside(
  ctx: RunContext,
  record: LocalRecord,
  reason: string,
  result: UploadResult,
  batch?: PendingBatch,
): Promise<void> {
  if (!(await ctx.store.putAside(record, reason, batch))) return;
  result.setAside.push({ category: record.category, id: record.id, reason });
  ctx.agent.notify({ kind: 'set-aside', category: record.category, recordId: record.id, reason });
}

/** A record as an upload change; a body sent in parts travels as its stub ([0094]). */
function changeOf(
  record: Pick<LocalRecord, 'category' | 'id' | 'base' | 'editedAt' | 'body' | 'meta'>,
  stub?: { size: number; hash: Uint8Array },
): WireChange {
  const body = stub ? new Uint8Array(0) : record.body;
  const change: WireChange = [categoryCode(record.category), record.id, record.base, record.editedAt, body];
  const meta = record.body ? toWireMeta(record.meta) : undefined;
  if (meta !== undefined || stub !== undefined) change.push({ ...meta, ...(stub ? { stub } : {}) });
  return change;
}

async function sendBatch(
  ctx: RunContext,
  batch: PendingBatch,
  result: UploadResult,
  read?: readonly LocalRecord[],
): Promise<void> {
  const changes: WireChange[] = [];
  for (const [i, item] of batch.items.entries()) {
    const given = read?.[i];
    const record =
      given?.category === item.category && given.id === item.id
        ? given
        : await ctx.store.get(item.category, item.id);
    // A record created and deleted before it ever reached the server: send the deletion anyway.
    if (record === undefined) {
      changes.push([categoryCode(item.category), item.id, 0, item.editedAt, null]);
      continue;
    }
    changes.push(changeOf(record, isLarge(ctx, record) ? await stubOf(record.body) : undefined));
  }
  const anchorBefore = await ctx.store.anchor();
  const ack = expectReply(
    await ctx.session.request({ type: 'upload', subscriber: ctx.subscriberId, batch: batch.id, changes }),
    'upload-ack',
  );
  if (ack.batch !== batch.id || ack.seqs.length !== batch.items.length) {
    throw new SyncError('protocol', `acknowledgement does not match batch ${batch.id}`);
  }
  const told = { conflicts: result.conflicts.length, setAside: result.setAside.length };
  const outcomes = outcomesOf(ack, batch, result);
  // A conflict puts a preserved copy (and maybe a winner we lack) into previous..latest,
  // so the anchor only jumps over a batch that was entirely ours.
  const conflicted = ack.issues.some((i) => i.code === 'conflict-won' || i.code === 'conflict-lost');
  const winnerMissing = ack.issues.some((i) => i.code === 'conflict-lost' && i.winner === undefined);
  const anchor = winnerMissing ? 0 : anchorBefore === ack.previous && !conflicted ? ack.latest : undefined;
  await ctx.store.settleBatch(batch, outcomes, anchor);
  for (const conflict of result.conflicts.slice(told.conflicts)) {
    if (conflict.copyId !== undefined) ctx.toldCopies.add(conflict.copyId);
    ctx.agent.notify({
      kind: 'conflict',
      category: conflict.category,
      recordId: conflict.id,
      detail: conflictDetail(conflict),
    });
  }
  for (const aside of result.setAside.slice(told.setAside)) {
    ctx.agent.notify({
      kind: 'set-aside',
      category: aside.category,
      recordId: aside.id,
      reason: aside.reason,
    });
  }
}

/** [0068] the notice of one conflict; a loser with no copy was a deletion (nothing to keep). */
function conflictDetail(conflict: UploadResult['conflicts'][number]): string {
  if (conflict.copyId === undefined) {
    return conflict.outcome === 'won'
      ? "kept this terminal's version; another terminal had deleted the record"
      : "another terminal's newer version wins over this terminal's deletion: the record stays";
  }
  return conflict.outcome === 'won'
    ? `kept this terminal's version; the other is saved as ${conflict.copyId}`
    : `another terminal's newer version wins; this one is saved as ${conflict.copyId}`;
}

function outcomesOf(ack: UploadAck, batch: PendingBatch, result: UploadResult): AckOutcome[] {
  const issues = new Map(ack.issues.map((i) => [i.index, i]));
  return batch.items.map((item, index): AckOutcome => {
    const seq = ack.seqs[index] ?? 0;
    const issue = issues.get(index);
    if (issue?.code === 'conflict-won') {
      result.conflicts.push({ category: item.category, id: item.id, outcome: 'won', copyId: issue.copyId });
    }
    if (seq > 0) {
      result.uploaded.push({ category: item.category, id: item.id, seq });
      return { kind: 'applied', seq };
    }
    if (issue?.code === 'conflict-lost') {
      result.conflicts.push({ category: item.category, id: item.id, outcome: 'lost', copyId: issue.copyId });
      // Without the winner (left out of an oversized ack) the anchor restarts at 0,
      // so the next download brings it; versions already held are skipped.
      return issue.winner ? { kind: 'lost', winner: toIncoming(issue.winner) } : { kind: 'lost' };
    }
    // [0094]: its staged body expired before the batch came; the next sync sends its parts again.
    if (issue?.code === 'not-staged') return { kind: 'retry' };
    const reason = issue?.reason ?? 'not accepted by the server';
    result.setAside.push({ category: item.category, id: item.id, reason });
    return { kind: 'set-aside', reason };
  });
}
