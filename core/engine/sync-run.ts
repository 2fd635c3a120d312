import type { UserAgent } from '../../hal/index.js';
import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import type { ServerSession } from '../net/server-session.js';
import {
  type Category,
  categoryCode,
  categoryFromCode,
  type DownloadRequest,
  parseConflictCopyId,
  type Reply,
  type UploadAck,
  type WireChange,
  type WireMeta,
} from '../protocol/index.js';
import type {
  AckOutcome,
  IncomingChange,
  LocalRecord,
  PendingBatch,
  RecordStore,
} from '../store/record-store.js';
import { ANCHOR_KEY, aheadKey } from '../store/stored-record.js';
import type { Budget } from './budget.js';

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
  /** [0085]: this sync's limits, and what it moved so far. */
  budget: Budget;
  terminalId: string;
  /** [0094]: larger bodies of these categories come down as stubs. */
  stubs?: { above: number; categories: Category[] } | undefined;
  /** Conflict copies this sync already told the user about. */
  toldCopies: Set<string>;
}

function toIncoming(change: WireChange): IncomingChange {
  const [code, id, seq, editedAt, body, wireMeta] = change;
  const category = categoryFromCode(code);
  if (category === undefined) throw new SyncError('protocol', `unknown category code ${code}`);
  const incoming: IncomingChange = { category, id, seq, editedAt, body };
  if (wireMeta === undefined) return incoming;
  const { stub, ...meta } = wireMeta;
  if (Object.keys(meta).length > 0) incoming.meta = meta;
  if (stub !== undefined) incoming.stub = stub;
  return incoming;
}

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
    const meta = record?.body ? wireMeta(record) : undefined;
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

/**
 * Downloads every change after the anchor, page by page, each page applied
 * with its anchor in one NV commit (FIG. 16: "each mount downloading exactly
 * what that terminal lacks"; [0067]: data missing here comes down). With
 * `category` ([0043], on access) only that category comes down, and its
 * progress is kept apart from the anchor.
 */
export async function downloadChanges(ctx: RunContext, category?: Category): Promise<IncomingChange[]> {
  const applied: IncomingChange[] = [];
  ctx.budget.phase();
  const anchorKey = category === undefined ? ANCHOR_KEY : aheadKey(category);
  for (;;) {
    const after = category === undefined ? await ctx.store.anchor() : await ctx.store.ahead(category);
    const page = await requestPage(ctx, { after, ...(category ? { categories: [category] } : {}) });
    if (page === undefined) return applied;
    if (page.next < after)
      throw new SyncError('protocol', `server anchor went backwards (${page.next} < ${after})`);
    const done = await ctx.store.applyDownload(page.changes.map(toIncoming), page.next, anchorKey);
    applied.push(...done);
    tellCopies(ctx, done);
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

/**
 * [0033]: brings down the older server data of categories added to this
 * terminal (or whose filters were loosened) after the anchor had passed it.
 */
export async function catchUp(ctx: RunContext): Promise<IncomingChange[]> {
  const applied: IncomingChange[] = [];
  for (let pending = await ctx.store.catchUp(); pending !== undefined; pending = await ctx.store.catchUp()) {
    // The server narrows to the categories it holds for this terminal.
    const page = await requestPage(ctx, {
      after: pending.after,
      upTo: pending.upTo,
      categories: pending.categories,
    });
    if (page === undefined) return applied;
    const next = page.more ? page.next : pending.upTo;
    const done = await ctx.store.applyCatchUp(page.changes.map(toIncoming), pending, next);
    applied.push(...done);
    tellCopies(ctx, done);
  }
  return applied;
}

type PageQuery = Pick<DownloadRequest, 'after' | 'upTo' | 'categories'>;

/** One page within the budget; undefined when the budget stops the download. */
async function requestPage(
  ctx: RunContext,
  query: PageQuery,
): Promise<Extract<Reply, { type: 'changes' }> | undefined> {
  const allowance = ctx.budget.downAllowance();
  if (allowance === 0) return undefined;
  const page = expectReply(
    await ctx.session.request({
      type: 'download',
      subscriber: ctx.subscriberId,
      ...query,
      maxBytes: Math.max(1, Math.min(ctx.pageBytes, Math.floor(allowance))),
      ...(ctx.budget.limited ? { strict: true } : {}),
      ...(ctx.stubs ? { stubs: ctx.stubs } : {}),
    }),
    'changes',
  );
  ctx.budget.down += page.changes.reduce((n, c) => n + (c[4]?.length ?? 0), 0);
  if (page.more && page.changes.length === 0) {
    ctx.budget.refuseDown();
    return undefined;
  }
  return page;
}

/**
 * [0044]/[0068]: a conflict copy arriving here means a conflict was resolved
 * on the server after another terminal's upload: this terminal's user is told
 * too, whether its version won or lost.
 */
function tellCopies(ctx: RunContext, applied: readonly IncomingChange[]): void {
  for (const change of applied) {
    if (change.body === null || ctx.toldCopies.has(change.id)) continue;
    const copy = parseConflictCopyId(change.id);
    if (copy === undefined) continue;
    ctx.toldCopies.add(change.id);
    ctx.agent.notify({
      kind: 'conflict',
      category: change.category,
      recordId: copy.recordId,
      detail:
        copy.losingTerminal === ctx.terminalId
          ? `another terminal's later edit wins; this terminal's version is kept as ${change.id}`
          : `edited on two terminals; the later edit is kept and the other is saved as ${change.id}`,
    });
  }
}

function wireMeta(record: LocalRecord): WireMeta | undefined {
  const m = record.meta;
  if (m === undefined) return undefined;
  const meta: WireMeta = {};
  if (m.folder !== undefined) meta.folder = m.folder;
  if (m.date !== undefined) meta.date = m.date;
  if (m.title !== undefined) meta.title = m.title;
  return Object.keys(meta).length > 0 ? meta : undefined;
}
