import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import { categoryCode, toWireMeta, type UploadAck, type WireChange } from '../protocol/index.js';
import type { AckOutcome, LocalRecord, PendingBatch } from '../store/record-store.js';
import { type RunContext, toIncoming, type UploadResult } from './run-context.js';

const bodySize = (r: { body: Uint8Array | null }) => r.body?.length ?? 0;

/**
 * The next batch from `records[from]`: at most `cap` bytes of bodies, or one
 * record alone when it is larger than a batch but within `allowance`.
 */
function nextBatch(records: LocalRecord[], from: number, cap: number, allowance: number): LocalRecord[] {
  const group: LocalRecord[] = [];
  let bytes = 0;
  for (let i = from; i < records.length; i++) {
    const record = records[i] as LocalRecord;
    const size = bodySize(record);
    if (bytes + size > cap) {
      if (group.length === 0 && size <= allowance) group.push(record);
      break;
    }
    group.push(record);
    bytes += size;
  }
  return group;
}

/**
 * Uploads every dirty record of the terminal's categories (FIG. 9 S16, FIG.
 * 10-B S34, FIG. 16 "uploaded at the time the SIM card is demounted"). A batch
 * left in flight by a power cut is resent first under its own id, so the
 * server applies it once. Within limits ([0085]) it stops before the first
 * batch that would not fit; what is left stays dirty for the next sync.
 */
export async function uploadDirty(ctx: RunContext): Promise<UploadResult> {
  const result: UploadResult = { uploaded: [], conflicts: [], setAside: [] };
  ctx.budget.phase();
  const leftover = await ctx.store.pendingBatch();
  if (leftover !== undefined) {
    let size = 0;
    for (const item of leftover.items) {
      size += bodySize((await ctx.store.get(item.category, item.id)) ?? { body: null });
    }
    if (size > ctx.budget.upAllowance()) {
      ctx.budget.refuseUp();
      return result;
    }
    await sendBatch(ctx, leftover, result);
    ctx.budget.up += size;
  }
  const dirty = await ctx.store.dirty(ctx.categories);
  for (let i = 0; i < dirty.length; ) {
    const allowance = ctx.budget.upAllowance();
    if (allowance === 0) break;
    const group = nextBatch(dirty, i, Math.min(ctx.batchBytes, allowance), allowance);
    if (group.length === 0) {
      ctx.budget.refuseUp();
      break;
    }
    await sendBatch(ctx, await ctx.store.beginBatch(group), result);
    ctx.budget.up += group.reduce((n, r) => n + bodySize(r), 0);
    i += group.length;
  }
  return result;
}

async function sendBatch(ctx: RunContext, batch: PendingBatch, result: UploadResult): Promise<void> {
  const changes: WireChange[] = [];
  for (const item of batch.items) {
    const record = await ctx.store.get(item.category, item.id);
    // A record created and deleted before it ever reached the server: send the deletion anyway.
    const change: WireChange = [
      categoryCode(item.category),
      item.id,
      record?.base ?? 0,
      record?.editedAt ?? item.editedAt,
      record?.body ?? null,
    ];
    const meta = record?.body ? toWireMeta(record.meta) : undefined;
    if (meta !== undefined) change.push(meta);
    changes.push(change);
  }
  const anchorBefore = await ctx.store.anchor();
  const ack = expectReply(
    await ctx.session.request({ type: 'upload', subscriber: ctx.subscriberId, batch: batch.id, changes }),
    'upload-ack',
  );
  if (ack.batch !== batch.id || ack.seqs.length !== batch.items.length) {
    throw new SyncError('protocol', `acknowledgement does not match batch ${batch.id}`);
  }
  const outcomes = outcomesOf(ack, batch, result);
  // A conflict puts a preserved copy (and maybe a winner we lack) into previous..latest,
  // so the anchor only jumps over a batch that was entirely ours.
  const conflicted = ack.issues.some((i) => i.code === 'conflict-won' || i.code === 'conflict-lost');
  const winnerMissing = ack.issues.some((i) => i.code === 'conflict-lost' && i.winner === undefined);
  const anchor = winnerMissing ? 0 : anchorBefore === ack.previous && !conflicted ? ack.latest : undefined;
  await ctx.store.settleBatch(batch, outcomes, anchor);
  for (const conflict of result.conflicts) {
    if (conflict.copyId !== undefined) ctx.toldCopies.add(conflict.copyId);
    ctx.agent.notify({
      kind: 'conflict',
      category: conflict.category,
      recordId: conflict.id,
      detail:
        conflict.outcome === 'won'
          ? `kept this terminal's version; the other is saved as ${conflict.copyId}`
          : `another terminal's newer version wins; this one is saved as ${conflict.copyId}`,
    });
  }
  for (const aside of result.setAside) {
    ctx.agent.notify({
      kind: 'set-aside',
      category: aside.category,
      recordId: aside.id,
      reason: aside.reason,
    });
  }
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
    const reason = issue?.reason ?? 'not accepted by the server';
    result.setAside.push({ category: item.category, id: item.id, reason });
    return { kind: 'set-aside', reason };
  });
}
