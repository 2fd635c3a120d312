import { SyncError } from '../errors.js';
import { type Category, type Filters, normaliseSelection } from '../protocol/index.js';
import type { MountedCard } from './mounted-card.js';
import {
  applySelection,
  dropSelection,
  forgetIfRefused,
  keepSelection,
  type SelectionIntent,
  type SelectionParts,
  strandable,
} from './selection-intent.js';
import type { ServerLink } from './server-link.js';
import type { SyncRunner } from './sync-runner.js';
import type { PartsOf } from './terminal-parts.js';

/**
 * FIG. 15 / FIG. 7b: the user's choice of sync-target categories (rights
 * follows application, [0033]) and finer criteria, stored on the server
 * and here. Categories added, or filters loosened, bring their existing
 * server data down at the next sync; a removed category stops syncing and
 * its server data stays.
 *
 * A removed category's records stay on this terminal as last synced:
 * readable, no longer updated, and not editable (user-records.ts refuses
 * edits outside the sync-target categories, claim 6). Its changes not yet on
 * the server are uploaded first, and the removal is refused ('aborted',
 * 'unsynced') while any stays unsent, so nothing is stranded. Added back
 * later, the category catches up (stale records replaced, deleted ones
 * removed); erasing the kept records is a collective erase (FIG. 20).
 *
 * Terminal and server never disagree for long: the choice is kept in NV
 * before it is sent, edits in the categories it removes are refused from
 * then on, and a choice whose answer never arrived (link drop, power cut) is
 * sent again at the start of the next sync (selection-intent.ts); recorded here, it ends in the
 * same commit as the new registration.
 */
export async function selectCategories(
  parts: SelectionParts & PartsOf<'mutex'>,
  card: MountedCard,
  link: ServerLink,
  runner: SyncRunner,
  categories: Category[],
  filters?: Filters,
): Promise<Category[]> {
  const { registration } = await card.authenticated();
  const intent: SelectionIntent = {
    categories: normaliseSelection(categories),
    ...(filters ? { filters } : {}),
    registeredAt: registration.registeredAt,
  };
  await uploadDropped(parts, runner, intent.categories);
  await keepSelection(parts, intent);
  // An edit that slipped in before the choice was kept would be stranded by it.
  const left = await strandable(parts, intent.categories);
  if (left > 0) {
    await dropSelection(parts);
    throw unsynced(left);
  }
  const { subscriber } = await card.authenticated();
  return parts.mutex.run(async (held) => {
    try {
      const session = await link.connect(held, registration);
      return await link.withProof(session, registration, () =>
        applySelection(parts, session, subscriber, intent),
      );
    } catch (e) {
      await forgetIfRefused(parts, e);
      await link.noteStanding(e);
      throw e;
    }
  });
}

/** Uploads what the removed categories still hold unsent; refuses the removal if anything stays. */
async function uploadDropped(
  parts: SelectionParts,
  runner: SyncRunner,
  selected: readonly Category[],
): Promise<void> {
  if ((await strandable(parts, selected)) === 0) return;
  await runner.sync('user', { download: false });
  const left = await strandable(parts, selected);
  if (left > 0) throw unsynced(left);
}

function unsynced(left: number): SyncError {
  return new SyncError(
    'aborted',
    `categories not changed: ${left} change(s) of the categories to remove are not on the server yet`,
    'unsynced',
  );
}
