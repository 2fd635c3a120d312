import type { UserAgent } from '../../hal/index.js';
import { SyncError } from '../errors.js';
import type { ServerSession } from '../net/server-session.js';
import {
  type Category,
  categoryCode,
  categoryFromCode,
  type Reply,
  type UploadAck,
  type WireChange,
} from '../protocol/index.js';
import type {
  AckOutcome,
  IncomingChange,
  LocalRecord,
  PendingBatch,
  RecordStore,
} from '../store/record-store.js';

export interface Conflict {
  category: Category;
  id: string;
  /** 'won': our version is current, the other one kept as `copyId`; 'lost': the reverse. */
  outcome: 'won' | 'lost';
  copyId: string | undefined;
}

export interface UploadResult {
  uploaded: { category: Category; id: string; seq: number }[];
  conflicts: Conflict[];
  setAside: { category: Category; id: string; reason: string }[];
}

export interface RunContext {
  session: ServerSession;
  store: RecordStore;
  agent: UserAgent;
  subscriberId: string;
  categories: readonly Category[];
  /** Body bytes per upload batch (several batches when more is dirty). */
  batchBytes: number;
  /** Body bytes per download page. */
  pageBytes: number;
}

function expect<T extends Reply['type']>(reply: Reply, type: T): Extract<Reply, { type: T }> {
  if (reply.type !== type) throw new SyncError('protocol', `expected ${type}, got ${reply.type}`);
  return reply as Extract<Reply, { type: T }>;
}

function toIncoming(change: WireChange): IncomingChange {
  const [code, id, seq, editedAt, body] = change;
  const category = categoryFromCode(code);
  if (category === undefined) throw new SyncError('protocol', `unknown category code ${code}`);
  return { category, id, seq, editedAt, body };
}

/** Splits dirty records into batches of at most `maxBytes` of bodies (at least one record each). */
function batches(records: LocalRecord[], maxBytes: number): LocalRecord[][] {
  const out: LocalRecord[][] = [];
  let current: LocalRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = record.body?.length ?? 0;
    if (current.length > 0 && bytes + size > maxBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Uploads every dirty record of the terminal's categories (FIG. 9 S16, FIG.
 * 10-B S34, FIG. 16 "uploaded at the time the SIM card is demounted"). A batch
 * left in flight by a power cut is resent first under its own id, so the
 * server applies it once.
 */
export async function uploadDirty(ctx: RunContext): Promise<UploadResult> {
  const result: UploadResult = { uploaded: [], conflicts: [], setAside: [] };
  const leftover = await ctx.store.pendingBatch();
  if (leftover !== undefined) await sendBatch(ctx, leftover, result);
  const dirty = await ctx.store.dirty(ctx.categories);
  for (const group of batches(dirty, ctx.batchBytes)) {
    await sendBatch(ctx, await ctx.store.beginBatch(group), result);
  }
  return result;
}

async function sendBatch(ctx: RunContext, batch: PendingBatch, result: UploadResult): Promise<void> {
  const changes: WireChange[] = [];
  for (const item of batch.items) {
    const record = await ctx.store.get(item.category, item.id);
    // A record created and deleted before it ever reached the server: send the deletion anyway.
    changes.push([
      categoryCode(item.category),
      item.id,
      record?.base ?? 0,
      record?.editedAt ?? item.editedAt,
      record?.body ?? null,
    ]);
  }
  const anchorBefore = await ctx.store.anchor();
  const ack = expect(
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

/**
 * Downloads every change after the anchor, page by page, each page applied
 * with its anchor in one NV commit (FIG. 16: "each mount downloading exactly
 * what that terminal lacks"; [0067]: data missing here comes down).
 */
export async function downloadChanges(ctx: RunContext): Promise<IncomingChange[]> {
  const applied: IncomingChange[] = [];
  for (;;) {
    const after = await ctx.store.anchor();
    const page = expect(
      await ctx.session.request({
        type: 'download',
        subscriber: ctx.subscriberId,
        after,
        maxBytes: ctx.pageBytes,
      }),
      'changes',
    );
    if (page.next < after)
      throw new SyncError('protocol', `server anchor went backwards (${page.next} < ${after})`);
    applied.push(...(await ctx.store.applyDownload(page.changes.map(toIncoming), page.next)));
    if (page.changes.length > 0) {
      ctx.agent.notify({
        kind: 'progress',
        phase: 'download',
        done: applied.length,
        total: applied.length + (page.more ? 1 : 0),
      });
    }
    if (!page.more) return applied;
  }
}
