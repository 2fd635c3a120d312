import type { PinResult, PinStatus, SimCard, Unsubscribe } from '../../hal/index.js';
import { verifyPinWithCard } from '../auth/authenticate.js';
import { SyncError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { Mutex } from '../mutex.js';
import type { Category, Filters, RecordMeta } from '../protocol/index.js';
import { type LocalRecord, type RecordReader, RecordStore } from '../store/record-store.js';
import { SealedNvStore } from '../store/sealed-nv-store.js';
import { type Refusal, type Registration, TerminalConfig } from '../store/terminal-config.js';
import { BackgroundSyncs } from './background-syncs.js';
import { type CardEvent, CardLifecycle, type UploadOutcome } from './card-lifecycle.js';
import { selectCategories } from './category-selection.js';
import { collectiveErase, type EraseOptions, type EraseReport } from './collective-erase.js';
import { EraseIntent } from './erase-intent.js';
import { type AccessIntent, LocalAccess } from './local-access.js';
import { MountedCard } from './mounted-card.js';
import { PersonalData } from './personal-data.js';
import {
  changeTerminalPassword,
  type PinEntries,
  type RegisterOptions,
  registerTerminal,
  setFirstTerminalPassword,
} from './registration-flow.js';
import { SealedData } from './sealed-data.js';
import { ServerLink } from './server-link.js';
import type { SyncPlan, SyncReport, Trigger } from './sync-report.js';
import { SyncRunner } from './sync-runner.js';
import {
  type Settings,
  settingsOf,
  type TerminalHal,
  type TerminalOptions,
  type TerminalParts,
} from './terminal-parts.js';
import { rejected, requireRegistration } from './told.js';
import { TriggerScheduler } from './trigger-scheduler.js';
import { UserRecords } from './user-records.js';

export type { CardEvent, UploadOutcome } from './card-lifecycle.js';
export type { AccessIntent } from './local-access.js';
export type { PersonalData } from './personal-data.js';
export type { RegisterOptions } from './registration-flow.js';
export type { SyncReport, Trigger } from './sync-report.js';
export type { TerminalHal, TerminalOptions } from './terminal-parts.js';

/**
 * The synchronization engine 2a (FIG. 5): registration, authentication by
 * policy, and sync on the card-mounted, card-demounted and user triggers.
 * Syncs never overlap; every server wait has a timeout. Each concern lives
 * in its own part; this class wires them together.
 */
export class Terminal {
  /**
   * The records as stored, read-only: for tests, benches and diagnostics
   * (what is dirty, set aside, in flight). Nothing here writes: every edit a
   * user makes goes through `edit`/`delete` (or `personalData`), which ask
   * the checks of local-access.ts first ([0023]/[0068], claim 6).
   */
  readonly records: RecordReader;
  /** The store itself, for the engine's own parts. */
  private readonly store: RecordStore;
  /** The automatic triggers; running between `start()` and `stop()`. */
  readonly triggers: TriggerScheduler;
  private readonly parts: TerminalParts;
  private readonly card: MountedCard;
  private readonly link: ServerLink;
  private readonly runner: SyncRunner;
  private readonly background: BackgroundSyncs;
  private readonly lifecycle: CardLifecycle;
  private readonly userRecords: UserRecords;
  private readonly local: LocalAccess;
  private readonly eraseIntent: EraseIntent;
  private readonly pinEntries: PinEntries = new WeakSet<SimCard>();
  private readonly failureListeners = new Set<(trigger: Trigger, error: unknown) => void>();

  private constructor(
    hal: TerminalHal,
    readonly terminalId: string,
    settings: Settings,
    log: Logger,
    sealedStore: SealedNvStore,
  ) {
    this.store = new RecordStore(hal.nv, hal.clock);
    this.records = this.store;
    const config = new TerminalConfig(hal.nv);
    const seal = new SealedData(
      { wanted: settings.sealed === true, agent: hal.agent, config, terminalId, log },
      sealedStore,
    );
    this.parts = { hal, terminalId, settings, log, config, records: this.store, mutex: new Mutex(), seal };
    const told = { agent: hal.agent, log };
    this.card = new MountedCard({
      reader: hal.reader,
      ...told,
      config,
      mutex: this.parts.mutex,
      terminalId,
      seal,
    });
    this.link = new ServerLink({
      link: hal.link,
      clock: hal.clock,
      ...told,
      config,
      mutex: this.parts.mutex,
      terminalId,
      timeoutMs: settings.timeoutMs,
      card: this.card,
    });
    this.runner = new SyncRunner(this.parts, this.card, this.link);
    this.background = new BackgroundSyncs((trigger, error) => this.triggerFailed(trigger, error));
    this.background.onReport(() => this.triggers.syncSucceeded());
    this.lifecycle = new CardLifecycle(
      this.parts,
      this.card,
      this.link,
      this.runner,
      this.background,
      this.pinEntries,
    );
    this.userRecords = new UserRecords(this.parts, this.card, this.link, this.runner, this.background);
    this.local = new LocalAccess(this.parts, this.card);
    this.eraseIntent = new EraseIntent(hal.nv, this.store, config);
    this.triggers = new TriggerScheduler(
      {
        clock: hal.clock,
        agent: hal.agent,
        battery: hal.battery,
        idle: hal.idle,
        ready: async () => hal.reader.present() && (await config.registration()) !== undefined,
        syncing: () => this.runner.syncing,
        dirtyCount: () => this.store.dirtyCount(),
        onEdit: (listener) => this.store.onEdit(listener),
        run: (trigger, plan) => this.background.launch(trigger, () => this.sync(trigger, plan)),
        failed: (trigger, error) => this.triggerFailed(trigger, error),
      },
      settings.triggers ?? {},
    );
  }

  /**
   * Starts the engine over the terminal's NV store. A collective erase that a
   * power cut interrupted is finished here, or abandoned if unsynced data
   * would be lost (FIG. 20).
   */
  static async create(given: TerminalHal, options: TerminalOptions = {}): Promise<Terminal> {
    // Every part reads and writes area 6a through the seal; it passes values through while there is none.
    const sealedStore = await SealedNvStore.over(given.nv);
    const hal = { ...given, nv: sealedStore };
    const terminalId = await new TerminalConfig(hal.nv).terminalId(options.terminalId);
    const terminal = new Terminal(
      hal,
      terminalId,
      settingsOf(options),
      options.logger ?? silentLogger,
      sealedStore,
    );
    const resumed = await terminal.eraseIntent.resume();
    if (resumed === 'abandoned') {
      hal.agent.notify({
        kind: 'info',
        text: 'collective erase abandoned: some changes were not on the server',
      });
    }
    return terminal;
  }

  /** Who hears why a sync did not happen: the user and the log. */
  private told() {
    return { agent: this.parts.hal.agent, log: this.parts.log };
  }

  /** A run the triggers or card events started failed: told once to the log, the listeners and the retry. */
  private triggerFailed(trigger: Trigger, error: unknown): void {
    rejected(this.told(), error);
    this.parts.log.error({ trigger, error: String(error) }, 'trigger failed');
    this.triggers.syncFailed(trigger, error);
    for (const listener of this.failureListeners) listener(trigger, error);
  }

  registration(): Promise<Registration | undefined> {
    return this.parts.config.registration();
  }

  /** Follows the card: mount on insertion, demount on removal (FIG. 16 timing); starts the triggers. */
  start(): void {
    this.lifecycle.follow();
    this.triggers.start();
    this.lifecycle.mountIfPresent();
  }

  /** Listens to the reports of syncs the triggers ran. */
  onReport(listener: (report: SyncReport) => void): Unsubscribe {
    return this.background.onReport(listener);
  }

  /** Listens to the failures of runs the triggers and card events started (each told once to the agent too). */
  onFailure(listener: (trigger: Trigger, error: unknown) => void): Unsubscribe {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** Listens to the SIM coming and going: inserted, and removed with what the demount upload did. */
  onCard(listener: (event: CardEvent) => void): Unsubscribe {
    return this.lifecycle.onCard(listener);
  }

  /** Resolves once every trigger started so far has finished (for tests, demos and shutdown). */
  settled(): Promise<void> {
    return this.background.settled();
  }

  /**
   * Stops the triggers, waits for runs under way, and closes the session.
   * With `uploadWithinMs`, first uploads what is pending, as at demount
   * (FIG. 16), for at most that long; resolves what was uploaded and what
   * stayed here.
   */
  async stop(options: { uploadWithinMs?: number } = {}): Promise<UploadOutcome> {
    this.triggers.stop();
    this.lifecycle.unfollow();
    await this.settled();
    try {
      if (options.uploadWithinMs === undefined)
        return { uploaded: 0, pending: await this.store.dirtyCount() };
      return await this.lifecycle.uploadPending(options.uploadWithinMs);
    } finally {
      await this.link.close();
    }
  }

  get cardMounted(): boolean {
    return this.card.cardMounted;
  }

  /** Sets the terminal password kept (hashed) in area 6b; the current one is needed to change it. */
  async setTerminalPassword(password: string, current?: string): Promise<void> {
    const { seal, mutex, hal } = this.parts;
    if (!seal.sealed || current === undefined)
      return changeTerminalPassword(this.parts.config, password, current);
    // Sealed: the data key is wrapped anew under the new password, with the SIM's card secret.
    await mutex.run(async (held) => {
      const card = hal.reader.present() ? await this.card.openCard(held) : undefined;
      if (card !== undefined) await verifyPinWithCard(card, hal.agent, false);
      await seal.changePassword(card, current, password);
    });
  }

  /**
   * The first terminal password of a terminal that has none (FIG. 19 shop
   * registration), set by the registered SIM's holder (PIN verified by the
   * card); see registration-flow.ts.
   */
  setFirstTerminalPassword(password: string): Promise<void> {
    return setFirstTerminalPassword(this.parts, this.card, this.pinEntries, password);
  }

  /** Whether a terminal password is set (FIG. 19 registers none). */
  async hasTerminalPassword(): Promise<boolean> {
    return (await this.parts.config.passwordHash()) !== undefined;
  }

  /** FIG. 8 registration, then FIG. 10-A / 11-A binding, or FIG. 19 at a shop (see registration-flow.ts). */
  register(options: RegisterOptions): Promise<Registration> {
    return registerTerminal(this.parts, this.card, this.pinEntries, options);
  }

  /**
   * Opens the SIM for a session of its own: the user enters PIN1 once
   * ([0036]), even when the card is unlocked already (FIG. 9: the user knows
   * the PIN). A mount does this itself; a one-shot command calls it.
   */
  openCardSession(): Promise<void> {
    return this.lifecycle.openSession();
  }

  /** PIN1 as the card reports it (tries left, blocked, the PUK counter where the HAL tells); costs no try. */
  pinStatus(): Promise<PinStatus> {
    return this.parts.mutex.run(async (held) => (await this.card.openCard(held)).pinStatus());
  }

  /**
   * UNBLOCK PIN with the PUK, setting a new PIN1 (TS 102 221 §11.1.13, TS
   * 51.011 §9.2.7): one try per call, never repeated here, since each wrong
   * PUK costs one of its tries. The user who typed the new PIN counts as
   * having entered it for this session.
   */
  unblockPin(puk: string, newPin: string): Promise<PinResult> {
    return this.parts.mutex.run(async (held) => {
      const card = await this.card.openCard(held);
      const result = await card.unblockPin(puk, newPin);
      if (result.status === 'ok') this.pinEntries.add(card);
      return result;
    });
  }

  /** Card inserted: open it, then download what this terminal lacks and upload what it has (FIG. 16). */
  mount(): Promise<SyncReport | undefined> {
    return this.lifecycle.mount();
  }

  /** Card removed: upload what changed during this mount, the link held up to `demountHoldMs` (FIG. 16). */
  demount(): Promise<SyncReport | undefined> {
    return this.lifecycle.demount();
  }

  /** [0044] manual mode: tells the user what waits on either side; resolves whether the server has updates. */
  check(category?: Category): Promise<boolean> {
    return this.runner.check(category);
  }

  /** A sync now: authenticate by policy (FIG. 10-B/11-B/20/21/22), then download and upload as planned. */
  async sync(trigger: Trigger = 'user', plan: SyncPlan = {}): Promise<SyncReport> {
    try {
      const report = await this.runner.sync(trigger, plan);
      this.triggers.syncSucceeded();
      return report;
    } catch (e) {
      // The server out of reach: with TriggerSettings.retry set, another sync follows after a back-off.
      this.triggers.syncFailed(trigger, e);
      throw e;
    }
  }

  /** [0042] a1: the user's directive to upload now, just before removing the SIM. */
  uploadBeforeDemount(): Promise<SyncReport> {
    return this.sync('before-demount', { download: false });
  }

  /**
   * FIG. 15 / FIG. 7b: the sync-target categories and finer criteria (see
   * category-selection.ts). A category removed here keeps its records on
   * this terminal as last synced: readable, no longer updated, not editable
   * (claim 6); its unsent changes are uploaded first, and the removal is
   * refused (SyncError 'aborted', code 'unsynced') if any could not be.
   * Adding it back catches up with the server; a collective erase (FIG. 20)
   * removes the kept records.
   */
  setCategories(categories: Category[], filters?: Filters): Promise<Category[]> {
    return selectCategories(this.parts, this.card, this.link, this.runner, categories, filters);
  }

  /**
   * Opens the personal data for one user action, after the checks of
   * local-access.ts: the server has not refused this terminal; with a SIM in
   * the reader, it is the registered one and passes the registered policy
   * (no PIN is asked of any other card); with none, the terminal password,
   * and writes only under `withoutSim: 'editable'` ([0023]/[0068]). Rejects
   * SyncError ('auth-refused', 'read-only', 'no-card', 'not-registered').
   */
  async personalData(intent: AccessIntent): Promise<PersonalData> {
    return new PersonalData(this.local, await this.local.grant(intent), this.userRecords, this.store);
  }

  /** A user's edit, as `personalData('write')` then `edit` ([0068]: warned when made without the SIM). */
  async edit(category: Category, id: string, body: Uint8Array, meta?: RecordMeta): Promise<LocalRecord> {
    return (await this.personalData('write')).edit(category, id, body, meta);
  }

  /** A user's deletion, under the same checks as `edit`. */
  async delete(category: Category, id: string): Promise<boolean> {
    return (await this.personalData('write')).delete(category, id);
  }

  /** A user opens a record: updates on access ([0043]), a stub's substance fetched ([0094]). */
  async open(category: Category, id: string): Promise<LocalRecord | undefined> {
    return (await this.personalData('read')).open(category, id);
  }

  /** [0094]: fetches a stub's substance now (resuming where a link drop cut it). */
  async fetch(category: Category, id: string): Promise<LocalRecord> {
    return (await this.personalData('read')).fetch(category, id);
  }

  /** The server's standing refusal of this terminal, if any (it keeps local data closed). */
  refusal(): Promise<Refusal | undefined> {
    return this.parts.config.refusal();
  }

  /** FIG. 20 collective erase (S81–S87), refused when anything chosen stays unsynced (see collective-erase.ts). */
  erase(options: EraseOptions = {}): Promise<EraseReport> {
    return collectiveErase(
      this.parts,
      { card: this.card, link: this.link, runner: this.runner, intent: this.eraseIntent, local: this.local },
      options,
    );
  }

  /**
   * Brings a category's data back from the server after it was erased here
   * (FIG. 20 erases this terminal's copy only): its whole server data comes
   * down again in this sync, as for a category just added (FIG. 15). Only
   * sync-target categories; the same checks as any sync.
   */
  async restore(categories: Category[]): Promise<SyncReport> {
    const registration = await requireRegistration(this.parts.config, this.told());
    const outside = categories.filter((c) => !registration.categories.includes(c));
    if (outside.length > 0) {
      throw new SyncError(
        'aborted',
        `not synced on this terminal: ${outside.join(', ')} (add with categories first)`,
        'not-a-target',
      );
    }
    await this.store.addCatchUp(categories);
    return this.sync('user', {});
  }
}
