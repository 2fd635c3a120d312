import { SyncError } from '../errors.js';
import type { Category } from '../protocol/index.js';
import type { IncomingChange } from '../store/record-store.js';
import type { RunContext } from './run-context.js';
import { fetchSubstance } from './substance.js';

/**
 * [0094] stubs this terminal did not ask for. A body no download page could
 * carry always comes down as a stub (broker/sync/download.ts), whatever the
 * terminal chose. Unless it chose lazy download for a body of that size, a
 * stub left as it is would be an empty record to everything that reads the
 * store (a listing, an export) until someone opens it; so a sync fetches the
 * substance itself, within its download limits ([0085]). What does not fit
 * stays a stub, its fetch marked due in NV (partial-fetches.ts), and is
 * fetched by the next sync, or on open.
 */

/** Did this terminal choose a stub for a body of `size` bytes in `category`? (The server's test.) */
export function choseLazy(stubs: RunContext['stubs'], category: Category, size: number): boolean {
  return stubs !== undefined && size > stubs.above && stubs.categories.includes(category);
}

/**
 * Marks the forced stubs of a page due before the page is applied: a power
 * cut between the two leaves a mark for a version not here, which the fetch
 * drops, never a stub without a mark.
 */
export async function markForcedStubs(ctx: RunContext, changes: readonly IncomingChange[]): Promise<void> {
  const wanted = [];
  for (const change of changes) {
    const stub = change.stub;
    if (stub === undefined || choseLazy(ctx.stubs, change.category, stub.size)) continue;
    // Not applied over a local edit, nor again over the same version held whole.
    const held = await ctx.store.get(change.category, change.id);
    if (held?.dirty || (held?.base === change.seq && held.stub === undefined)) continue;
    wanted.push({ category: change.category, id: change.id, seq: change.seq, stub });
  }
  if (wanted.length > 0) await ctx.partial.markDue(wanted);
}

/**
 * Fetches the substance of every forced stub marked due (of `category`
 * only, when given), while the sync's download allowance lasts. A fetch the
 * server answers 'gone' (a newer version is on its way down) or whose
 * substance fails its hash leaves that record a stub and goes on with the
 * others; a link or session failure fails the sync, the chunks kept.
 */
export async function fetchForcedStubs(ctx: RunContext, category?: Category): Promise<void> {
  for (const due of await ctx.partial.due()) {
    if (category !== undefined && due.category !== category) continue;
    if (!ctx.categories.includes(due.category)) continue;
    if (ctx.budget.downAllowance() === 0) return;
    const held = await ctx.store.get(due.category, due.id);
    if (held?.stub === undefined) {
      // Deleted, edited here, or replaced by a whole version since it was marked.
      await ctx.partial.discard(due.category, due.id);
      continue;
    }
    // A fetch the user started on a stub chosen lazily is left for them to resume on open.
    if (choseLazy(ctx.stubs, due.category, held.stub.size)) continue;
    await fetchOne(ctx, due.category, due.id);
  }
}

async function fetchOne(ctx: RunContext, category: Category, id: string): Promise<void> {
  try {
    await fetchSubstance(
      {
        session: ctx.session,
        store: ctx.store,
        partial: ctx.partial,
        subscriberId: ctx.subscriberId,
        chunkBytes: ctx.chunkBytes,
        budget: ctx.budget,
      },
      category,
      id,
    );
  } catch (e) {
    if (!(e instanceof SyncError)) throw e;
    if (e.kind === 'server-refused' && e.code === 'gone') return;
    if (e.kind !== 'protocol') throw e;
    ctx.agent.notify({
      kind: 'info',
      text: `${category}/${id} stays a stub (${e.message}); opening it fetches it again`,
    });
  }
}
