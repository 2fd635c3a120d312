import { SyncError } from '../errors.js';
import type { Category, RecordMeta } from '../protocol/index.js';
import { PartialFetches } from '../store/partial-fetches.js';
import type { LocalRecord } from '../store/record-store.js';
import type { BackgroundSyncs } from './background-syncs.js';
import type { MountedCard } from './mounted-card.js';
import { pendingSelection, type SelectionParts } from './selection-intent.js';
import type { ServerLink } from './server-link.js';
import { fetchSubstance } from './substance.js';
import type { SyncRunner } from './sync-runner.js';
import type { PartsOf } from './terminal-parts.js';

/**
 * The user's access to personal data, once local-access.ts allowed it: edits
 * (warned of possible conflicts when made without the SIM, [0068]), and
 * opening a record, which may first bring its category's updates down
 * ([0043]) or its substance ([0094]).
 */
export class UserRecords {
  private readonly partial: PartialFetches;
  /** [0043]: when each category was last asked about on access. */
  private readonly probedAt = new Map<Category, number>();

  constructor(
    private readonly parts: SelectionParts & PartsOf<'log' | 'settings', 'agent' | 'clock' | 'reader'>,
    private readonly card: MountedCard,
    private readonly link: ServerLink,
    private readonly runner: SyncRunner,
    private readonly background: BackgroundSyncs,
  ) {
    this.partial = new PartialFetches(parts.hal.nv);
  }

  /**
   * A user's edit of personal data. Made without the SIM (allowed only under
   * `withoutSim: 'editable'`, local-access.ts), it comes with a warning when
   * the record exists on the server and so may conflict ([0068]).
   */
  async edit(category: Category, id: string, body: Uint8Array, meta?: RecordMeta): Promise<LocalRecord> {
    await this.refuseUnsynced(category);
    await this.warnIfMayConflict(category, id);
    return this.parts.records.put(category, id, body, meta);
  }

  /** A user's deletion, refused and warned like `edit`. */
  async delete(category: Category, id: string): Promise<boolean> {
    await this.refuseUnsynced(category);
    await this.warnIfMayConflict(category, id);
    return this.parts.records.remove(category, id);
  }

  /**
   * Claim 6 / FIG. 7b: only the sync-target categories registered for this
   * terminal are synced, so a change in any other could never be uploaded: it
   * would stay dirty forever. It is refused instead ('read-only',
   * 'category-not-synced'); records kept from a dropped category stay
   * readable (Terminal.setCategories).
   */
  private async refuseUnsynced(category: Category): Promise<void> {
    const registration = await this.parts.config.registration();
    // A choice of categories not yet answered by the server already counts (category-selection.ts).
    const pending = await pendingSelection(this.parts);
    if (registration?.categories.includes(category) && (pending?.categories.includes(category) ?? true))
      return;
    throw new SyncError(
      'read-only',
      `${category} is not a sync-target category of this terminal (claim 6): add it with setCategories to change its records here`,
      'category-not-synced',
    );
  }

  /**
   * A user opens a record. [0043]: with `triggers.onAccess`, the server is
   * first asked whether the category has updates, and they come down.
   * [0094]: a stub's substance is fetched (resuming a fetch a link drop cut).
   */
  async open(category: Category, id: string): Promise<LocalRecord | undefined> {
    if (await this.dueForProbe(category)) {
      await this.accessSync(category).catch((e) =>
        this.parts.log.warn({ category, error: String(e) }, 'access probe failed'),
      );
    }
    const record = await this.parts.records.get(category, id);
    if (record?.stub === undefined) return record?.body === null ? undefined : record;
    return this.fetch(category, id);
  }

  /** [0094]: fetches a stub's substance now (resuming where a link drop cut it). */
  async fetch(category: Category, id: string): Promise<LocalRecord> {
    const { records, settings } = this.parts;
    return this.link.withAuthenticatedSession(({ session, subscriber }) =>
      fetchSubstance(
        {
          session,
          store: records,
          partial: this.partial,
          subscriberId: subscriber,
          // 1 MiB a request: few round trips, well under the 4 MiB message limit.
          chunkBytes: settings.lazy?.chunkBytes ?? 1024 * 1024,
        },
        category,
        id,
      ),
    );
  }

  private async warnIfMayConflict(category: Category, id: string): Promise<void> {
    const { hal, records } = this.parts;
    if (hal.reader.present()) return;
    const held = await records.get(category, id);
    if (held === undefined || held.base === 0) return;
    hal.agent.notify({
      kind: 'conflict',
      category,
      recordId: id,
      detail:
        'possible conflict: edited without the SIM; if another terminal edits it too, the later edit wins and the other is kept as a copy',
    });
  }

  /** [0043]: on access, a synced category with the SIM here is asked about at most every `minIntervalMs`. */
  private async dueForProbe(category: Category): Promise<boolean> {
    const { hal, config, settings } = this.parts;
    const onAccess = settings.triggers?.onAccess;
    const registration = await config.registration();
    if (!onAccess || !registration?.categories.includes(category) || !hal.reader.present()) return false;
    const last = this.probedAt.get(category);
    const now = hal.clock.now();
    if (last !== undefined && now - last < (onAccess.minIntervalMs ?? 0)) return false;
    this.probedAt.set(category, now);
    return true;
  }

  private async accessSync(category: Category): Promise<void> {
    const { subscriber } = await this.card.authenticated();
    if (!(await this.runner.probe(subscriber, category))) return;
    await this.background.launch('access', () => this.runner.sync('access', { category, upload: false }));
  }
}
