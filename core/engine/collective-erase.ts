import { POLICIES } from '../auth/policy.js';
import { SyncError } from '../errors.js';
import { CATEGORIES, type Category, normaliseSelection } from '../protocol/index.js';
import type { EraseIntent } from './erase-intent.js';
import type { LocalAccess } from './local-access.js';
import type { MountedCard } from './mounted-card.js';
import { leaveSimList } from './registration-flow.js';
import type { ServerLink } from './server-link.js';
import type { SyncRunner } from './sync-runner.js';
import type { PartsOf } from './terminal-parts.js';
import { rejected, requireRegistration } from './told.js';

export interface EraseOptions {
  /** FIG. 20 S81: the data the user chose to erase; default every category. */
  categories?: Category[];
  /**
   * [0072]: hand the terminal on in its factory state: all data, the sync
   * state, the registration and the terminal password go, and this terminal's
   * entry leaves the SIM's list (FIG. 11-A) when the SIM is here.
   */
  factory?: boolean;
}

export interface EraseReport {
  categories: Category[];
  /** Records erased from the terminal. */
  erased: number;
  /** Changes uploaded first (S85). */
  uploaded: number;
  factory: boolean;
}

/** What a collective erase needs besides the terminal's shared parts. */
export interface EraseDeps {
  card: MountedCard;
  link: ServerLink;
  runner: SyncRunner;
  intent: EraseIntent;
  local: LocalAccess;
}

/**
 * FIG. 20 collective erase (S81–S87): verify the binding (as for any local
 * change, local-access.ts, so a stranger's SIM erases nothing and is asked
 * for no PIN), upload everything
 * unsynced, confirm the server acknowledged it, then erase. Refused, with
 * nothing erased, when anything chosen is still unsynced afterwards. A power
 * cut anywhere is recovered by `Terminal.create` (see EraseIntent).
 */
export async function collectiveErase(
  parts: PartsOf<'config' | 'log' | 'mutex' | 'records' | 'terminalId', 'agent' | 'reader'>,
  { card, link, runner, intent, local }: EraseDeps,
  options: EraseOptions,
): Promise<EraseReport> {
  const told = { agent: parts.hal.agent, log: parts.log };
  const factory = options.factory ?? false;
  const categories = chosenCategories(options);
  if (!parts.hal.reader.present())
    throw rejected(told, new SyncError('no-card', 'no SIM is mounted in this terminal'));
  await local.grant('write').catch((e: unknown) => {
    throw rejected(told, e);
  });
  // The holder checks passed: the SIM is the registered subscriber's.
  const registration = await requireRegistration(parts.config, told);
  const subscriber = registration.subscriberId;
  await intent.begin({ categories, factory });
  let uploaded = 0;
  try {
    uploaded = (await runner.run('erase', subscriber, { download: false })).uploaded.length;
  } catch (e) {
    await intent.abandon();
    throw e;
  }
  if (factory && POLICIES[registration.policy].binding === 'terminal-list') await leaveSimList(parts, card);
  const erased = await intent.finish();
  if (erased === undefined) {
    await intent.abandon();
    const left = await parts.records.unsynced(categories);
    throw rejected(
      told,
      new SyncError('aborted', `nothing erased: ${left} change(s) are not on the server yet`, 'unsynced'),
    );
  }
  if (factory) {
    card.forgetSubscriber();
    await link.close();
  }
  parts.log.info({ categories, erased, factory }, 'collective erase');
  return { categories, erased, uploaded, factory };
}

/** S81: every category for a factory reset; else the chosen ones, rights only when asked for by name. */
function chosenCategories(options: EraseOptions): Category[] {
  if (options.factory) return [...CATEGORIES];
  const categories = normaliseSelection(options.categories ?? CATEGORIES);
  if (options.categories?.includes('rights')) categories.push('rights');
  return categories;
}
