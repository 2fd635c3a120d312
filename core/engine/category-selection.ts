import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import { type Category, type Filters, loosened, normaliseSelection } from '../protocol/index.js';
import type { CardSession } from './card-session.js';
import type { SyncRunner } from './sync-runner.js';
import type { TerminalParts } from './terminal-parts.js';

/**
 * FIG. 15 / FIG. 7b: the user's choice of sync-target categories (rights
 * follows application, [0033]) and finer criteria, stored on the server
 * and here. Categories added, or filters loosened, bring their existing
 * server data down at the next sync; a removed category stops syncing and
 * its server data stays.
 *
 * A removed category's records stay on this terminal as last synced:
 * readable, no longer updated, and not editable (record-access.ts refuses
 * edits outside the sync-target categories, claim 6). Its changes not yet on
 * the server are uploaded first, and the removal is refused ('aborted',
 * 'unsynced') while any stays unsent, so nothing is stranded. Added back
 * later, the category catches up (stale records replaced, deleted ones
 * removed); erasing the kept records is a collective erase (FIG. 20).
 */
export async function selectCategories(
  parts: TerminalParts,
  cards: CardSession,
  runner: SyncRunner,
  categories: Category[],
  filters?: Filters,
): Promise<Category[]> {
  const selected = normaliseSelection(categories);
  await uploadDropped(parts, runner, selected);
  const { registration, subscriber } = await cards.authenticated();
  const granted = await parts.mutex.run(async () => {
    const session = await cards.connect(registration);
    try {
      const reply = await session.request({
        type: 'set-categories',
        subscriber,
        categories: selected,
        ...(filters ? { filters } : {}),
      });
      return expectReply(reply, 'ok').categories ?? selected;
    } catch (e) {
      await cards.noteStanding(e);
      throw e;
    }
  });
  const added = granted.filter((c) => !registration.categories.includes(c));
  const widened = loosened(registration.filters, filters).filter((c) => granted.includes(c));
  // The catch-up is recorded first: a power cut before the registration is
  // updated leaves a harmless extra download, never a missing one.
  await parts.records.addCatchUp([...new Set([...added, ...widened])]);
  const { filters: _old, ...rest } = registration;
  await parts.config.setRegistration({ ...rest, categories: granted, ...(filters ? { filters } : {}) });
  return granted;
}

/** Changes in categories about to be removed that are not on the server yet (dirty, or in a batch in flight). */
async function strandable(parts: TerminalParts, selected: readonly Category[]): Promise<number> {
  const registration = await parts.config.registration();
  const dropped = (registration?.categories ?? []).filter((c) => !selected.includes(c));
  if (dropped.length === 0) return 0;
  const { records } = parts;
  const inFlight = (await records.pendingBatch())?.items.some((i) => dropped.includes(i.category)) ? 1 : 0;
  return (await records.dirty(dropped)).length + inFlight;
}

/** Uploads what the removed categories still hold unsent; refuses the removal if anything stays. */
async function uploadDropped(
  parts: TerminalParts,
  runner: SyncRunner,
  selected: readonly Category[],
): Promise<void> {
  if ((await strandable(parts, selected)) === 0) return;
  await runner.sync('user', { download: false });
  const left = await strandable(parts, selected);
  if (left === 0) return;
  throw new SyncError(
    'aborted',
    `categories not changed: ${left} change(s) of the categories to remove are not on the server yet`,
    'unsynced',
  );
}
