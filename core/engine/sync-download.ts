import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import { type Category, type DownloadRequest, parseConflictCopyId, type Reply } from '../protocol/index.js';
import type { CatchUp } from '../store/download-apply.js';
import type { IncomingChange } from '../store/record-store.js';
import { ANCHOR_KEY, aheadKey } from '../store/stored-record.js';
import { fetchForcedStubs, markForcedStubs } from './forced-stubs.js';
import { toIncoming } from './incoming-change.js';
import type { RunContext } from './run-context.js';

/**
 * Downloads every change after the anchor, page by page, each page applied
 * with its anchor in one NV commit while the next one is on its way
 * (FIG. 16: "each mount downloading exactly
 * what that terminal lacks"; [0067]: data missing here comes down). With
 * `category` ([0043], on access) only that category comes down, and its
 * progress is kept apart from the anchor. Then, within what the limits
 * leave, the substance of stubs the terminal did not choose ([0094],
 * forced-stubs.ts), so no record stays empty here until opened.
 */
export async function downloadChanges(ctx: RunContext, category?: Category): Promise<IncomingChange[]> {
  ctx.budget.phase();
  const applied = await downloadPages(ctx, category);
  await fetchForcedStubs(ctx, category);
  return applied;
}

async function downloadPages(ctx: RunContext, category: Category | undefined): Promise<IncomingChange[]> {
  const applied: IncomingChange[] = [];
  const anchorKey = category === undefined ? ANCHOR_KEY : aheadKey(category);
  const query = (after: number): PageQuery => ({ after, ...(category ? { categories: [category] } : {}) });
  let after = category === undefined ? await ctx.store.anchor() : await ctx.store.ahead(category);
  let asked = requestPage(ctx, query(after));
  for (;;) {
    const page = await asked;
    if (page === undefined) return applied;
    if (page.next < after)
      throw new SyncError('protocol', `server anchor went backwards (${page.next} < ${after})`);
    if (page.more) {
      // The next page is asked for at once, after the anchor this one leaves (what applying it
      // writes), so the server reads and sends it while this one goes into NV (issue 20). One
      // that comes back after a failure here is not applied; its rejection is taken in turn.
      asked = requestPage(ctx, query(page.next));
      asked.catch(() => undefined);
    }
    const changes = page.changes.map(toIncoming);
    await markForcedStubs(ctx, changes);
    const done = await ctx.store.applyDownload(changes, page.next, anchorKey);
    applied.push(...done);
    tellCopies(ctx, done);
    if (page.changes.length > 0) {
      ctx.agent.notify({
        kind: 'progress',
        phase: 'download',
        done: applied.length,
        // The server says only whether more pages follow: the total is known at the last one.
        ...(page.more ? {} : { total: applied.length }),
      });
    }
    if (!page.more) return applied;
    after = page.next;
  }
}

/**
 * [0033]: brings down the older server data of categories added to this
 * terminal (or whose filters were loosened) after the anchor had passed it.
 * Its forced stubs are marked due, and fetched by the download that follows.
 */
export async function catchUp(ctx: RunContext): Promise<IncomingChange[]> {
  const applied: IncomingChange[] = [];
  let pending = await ctx.store.catchUp();
  let asked = pending === undefined ? undefined : requestPage(ctx, catchUpQuery(pending));
  while (pending !== undefined && asked !== undefined) {
    const page = await asked;
    if (page === undefined) return applied;
    const next = page.more ? page.next : pending.upTo;
    // The next page is asked for at once, where applying this one leaves the catch-up (issue 20);
    // it is used only if the store's catch-up is then that one (nothing else changed it meanwhile).
    const expected = next >= pending.upTo ? undefined : { ...pending, after: next };
    const ahead = expected === undefined ? undefined : requestPage(ctx, catchUpQuery(expected));
    ahead?.catch(() => undefined);
    const changes = page.changes.map(toIncoming);
    await markForcedStubs(ctx, changes);
    const done = await ctx.store.applyCatchUp(changes, pending, next);
    applied.push(...done);
    tellCopies(ctx, done);
    pending = await ctx.store.catchUp();
    if (pending === undefined) return applied;
    asked =
      ahead !== undefined && sameCatchUp(pending, expected) ? ahead : requestPage(ctx, catchUpQuery(pending));
  }
  return applied;
}

/** The download request of a catch-up: the server narrows to the categories it holds for this terminal. */
function catchUpQuery(pending: CatchUp): PageQuery {
  return { after: pending.after, upTo: pending.upTo, categories: pending.categories };
}

function sameCatchUp(a: CatchUp, b: CatchUp | undefined): boolean {
  return (
    b !== undefined &&
    a.after === b.after &&
    a.upTo === b.upTo &&
    a.categories.length === b.categories.length &&
    a.categories.every((c, i) => c === b.categories[i])
  );
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
