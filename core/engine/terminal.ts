import type {
  Battery,
  CardReader,
  Clock,
  IdleSensor,
  NvStore,
  RadioLink,
  SimCard,
  Unsubscribe,
  UserAgent,
} from '../../hal/index.js';
import { authenticate, verifyPinWithCard, verifyTerminalPassword } from '../auth/authenticate.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { POLICIES, type PolicyName } from '../auth/policy.js';
import { SyncError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { Mutex } from '../mutex.js';
import { ServerSession } from '../net/server-session.js';
import {
  CATEGORIES,
  type Category,
  type Filters,
  loosened,
  normaliseSelection,
  type RecordMeta,
} from '../protocol/index.js';
import { PartialFetches } from '../store/partial-fetches.js';
import { type LocalRecord, RecordStore } from '../store/record-store.js';
import { type Registration, TerminalConfig } from '../store/terminal-config.js';
import { Budget } from './budget.js';
import { EraseIntent, type EraseOptions, type EraseReport } from './erase.js';
import { fetchSubstance } from './substance.js';
import { catchUp, downloadChanges, type RunContext, uploadDirty } from './sync-run.js';
import { TriggerScheduler } from './trigger-scheduler.js';
import type { SyncPlan, SyncReport, Trigger, TriggerSettings } from './trigger-settings.js';

export type { SyncReport, Trigger } from './trigger-settings.js';

/** The HAL set a terminal runs on (FIG. 3). */
export interface TerminalHal {
  reader: CardReader;
  nv: NvStore;
  link: RadioLink;
  clock: Clock;
  agent: UserAgent;
  /** FIG. 22: needed for the battery-low trigger. */
  battery?: Battery;
  /** FIG. 21: needed for the idle trigger. */
  idle?: IdleSensor;
}

export interface TerminalOptions {
  /** Use this terminal ID on first start instead of a random one. */
  terminalId?: string;
  /** Every wait on the server ends after this long (default 15 s). */
  timeoutMs?: number;
  /** Body bytes per download page (default 256 KiB). */
  pageBytes?: number;
  /** Body bytes per upload batch (default 256 KiB). */
  batchBytes?: number;
  /** FIG. 16 demount upload: how long the link is held for it (default 30 s). */
  demountHoldMs?: number;
  /** When syncs happen besides mount and demount ([0042]–[0044], FIG. 21, FIG. 22). */
  triggers?: TriggerSettings;
  /**
   * [0023]/[0068]: may personal data be edited (through `edit`/`delete`)
   * while no SIM is mounted? Default 'read-only', as [0023] prefers.
   */
  withoutSim?: 'read-only' | 'editable';
  /** [0094]: bodies above `aboveBytes` in these categories (default archive) come down as stubs. */
  lazy?: { aboveBytes: number; categories?: Category[]; chunkBytes?: number };
  logger?: Logger;
}

type Settings = Required<Pick<TerminalOptions, 'timeoutMs' | 'pageBytes' | 'batchBytes' | 'demountHoldMs'>> &
  Pick<TerminalOptions, 'triggers' | 'withoutSim' | 'lazy'>;

export interface RegisterOptions {
  policy: PolicyName;
  /** The subscriber's login password or a one-time code (FIG. 8 S5), or the shop code (FIG. 19). */
  secret: string;
  categories: Category[];
  /** FIG. 19: registered at a shop, so no terminal password is asked. */
  shop?: boolean;
}

/**
 * The synchronization engine 2a (FIG. 5): registration, authentication by
 * policy, and sync on the card-mounted, card-demounted and user triggers.
 * Syncs never overlap; every server wait has a timeout.
 */
export class Terminal {
  readonly records: RecordStore;
  private readonly config: TerminalConfig;
  private readonly mutex = new Mutex();
  private readonly log: Logger;
  private card: SimCard | undefined;
  /** Subscriber authenticated during the current mount: the demount upload uses it, the card being gone. */
  private mountedSubscriber: string | undefined;
  private session: ServerSession | undefined;
  private listeners: Unsubscribe[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly reportListeners = new Set<(report: SyncReport) => void>();
  /** The automatic triggers; running between `start()` and `stop()`. */
  readonly triggers: TriggerScheduler;
  private readonly partial: PartialFetches;
  private readonly eraseIntent: EraseIntent;
  /** Syncs running or waiting for the mutex. */
  private active = 0;
  /** [0043]: when each category was last asked about on access. */
  private readonly probedAt = new Map<Category, number>();

  private constructor(
    private readonly hal: TerminalHal,
    readonly terminalId: string,
    private readonly options: Settings,
    logger: Logger,
  ) {
    this.records = new RecordStore(hal.nv, hal.clock);
    this.config = new TerminalConfig(hal.nv);
    this.partial = new PartialFetches(hal.nv);
    this.eraseIntent = new EraseIntent(hal.nv, this.records, this.config);
    this.log = logger;
    // Whatever else listens, a removed card's session is gone.
    hal.reader.on('removed', () => {
      this.card = undefined;
    });
    this.triggers = new TriggerScheduler(
      {
        clock: hal.clock,
        agent: hal.agent,
        battery: hal.battery,
        idle: hal.idle,
        ready: async () => this.hal.reader.present() && (await this.config.registration()) !== undefined,
        syncing: () => this.active > 0,
        dirtyCount: () => this.records.dirtyCount(),
        onEdit: (listener) => this.records.onEdit(listener),
        run: (trigger, plan) => this.launch(trigger, () => this.sync(trigger, plan)),
      },
      options.triggers ?? {},
    );
  }

  /**
   * Starts the engine over the terminal's NV store. A collective erase that a
   * power cut interrupted is finished here, or abandoned if unsynced data
   * would be lost (FIG. 20).
   */
  static async create(hal: TerminalHal, options: TerminalOptions = {}): Promise<Terminal> {
    const terminalId = await new TerminalConfig(hal.nv).terminalId(options.terminalId);
    const terminal = new Terminal(
      hal,
      terminalId,
      {
        timeoutMs: options.timeoutMs ?? 15_000,
        pageBytes: options.pageBytes ?? 256 * 1024,
        batchBytes: options.batchBytes ?? 256 * 1024,
        demountHoldMs: options.demountHoldMs ?? 30_000,
        triggers: options.triggers,
        withoutSim: options.withoutSim,
        lazy: options.lazy,
      },
      options.logger ?? silentLogger,
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

  registration(): Promise<Registration | undefined> {
    return this.config.registration();
  }

  /** Follows the card: mount on insertion, demount on removal (FIG. 16 timing); starts the triggers. */
  start(): void {
    this.listeners.push(
      this.hal.reader.on('inserted', () => this.track('mount', () => this.mount())),
      this.hal.reader.on('removed', () => this.track('demount', () => this.demount())),
    );
    this.triggers.start();
    if (this.hal.reader.present()) this.track('mount', () => this.mount());
  }

  /** Listens to the reports of syncs the triggers ran. */
  onReport(listener: (report: SyncReport) => void): Unsubscribe {
    this.reportListeners.add(listener);
    return () => this.reportListeners.delete(listener);
  }

  /** Resolves once every trigger started so far has finished (for tests, demos and shutdown). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private track(trigger: Trigger, run: () => Promise<SyncReport | undefined>): void {
    void this.launch(trigger, run);
  }

  /** Runs a triggered sync: its report goes to the listeners, its failure to the user. */
  private launch(
    trigger: Trigger,
    run: () => Promise<SyncReport | undefined>,
  ): Promise<SyncReport | undefined> {
    let report: SyncReport | undefined;
    const done = run()
      .then((r) => {
        report = r;
        if (r !== undefined) for (const listener of this.reportListeners) listener(r);
      })
      .catch((e) => this.reportFailure(trigger, e))
      .finally(() => this.running.delete(done));
    this.running.add(done);
    return done.then(() => report);
  }

  async stop(): Promise<void> {
    this.triggers.stop();
    for (const off of this.listeners.splice(0)) off();
    await this.settled();
    await this.mutex.run(() => this.closeSession());
  }

  get cardMounted(): boolean {
    return this.card !== undefined;
  }

  /** Sets the terminal password kept (hashed) in area 6b; the current one is needed to change it. */
  async setTerminalPassword(password: string, current?: string): Promise<void> {
    if (password.length < 4)
      throw new SyncError('auth-refused', 'terminal password too short (4+)', 'password-weak');
    const stored = await this.config.passwordHash();
    if (stored !== undefined && !(current !== undefined && (await verifyPassword(current, stored)))) {
      throw new SyncError('auth-refused', 'the current terminal password is wrong', 'password-wrong');
    }
    await this.config.setPasswordHash(await hashPassword(password));
  }

  /**
   * FIG. 8 user registration (S1–S6) followed by FIG. 10-A (bind the
   * subscriber ID, S25–S26) or FIG. 11-A (put this terminal's ID on the SIM,
   * S25a–S26a); with `shop`, FIG. 19 (no terminal password).
   */
  register(options: RegisterOptions): Promise<Registration> {
    return this.mutex.run(async () => {
      const card = await this.openCard();
      await verifyPinWithCard(card, this.hal.agent, true);
      let terminalPassword: string | undefined;
      if (!options.shop) {
        const agent = this.hal.agent;
        const capture: UserAgent = {
          ...agent,
          askPin: (p) => agent.askPin(p),
          askPermission: (q) => agent.askPermission(q),
          notify: (n) => agent.notify(n),
          askTerminalPassword: async (prompt) => {
            terminalPassword = await agent.askTerminalPassword(prompt);
            return terminalPassword;
          },
        };
        await verifyTerminalPassword(capture, await this.config.passwordHash());
      }
      const subscriberId = await card.imsi();
      const iccid = await card.iccid();
      const categories = normaliseSelection(options.categories);
      const session = await ServerSession.connect({
        link: this.hal.link,
        clock: this.hal.clock,
        terminalId: this.terminalId,
        channel: 'reg',
        password: `${subscriberId}:${options.secret}`,
        timeoutMs: this.options.timeoutMs,
      });
      let credential: string;
      let granted: Category[];
      try {
        const reply = await session.request({
          type: 'register',
          subscriber: subscriberId,
          iccid,
          categories,
          ...(terminalPassword === undefined ? {} : { terminalPassword }),
        });
        if (reply.type !== 'registered')
          throw new SyncError('protocol', `expected registered, got ${reply.type}`);
        credential = reply.credential;
        granted = reply.categories;
      } finally {
        await session.close();
      }
      if (POLICIES[options.policy].binding === 'terminal-list') {
        const listed = await card.readTerminalIds();
        if (!listed.includes(this.terminalId)) await card.writeTerminalIds([...listed, this.terminalId]);
      }
      const registration: Registration = {
        policy: options.policy,
        subscriberId,
        credential,
        categories: granted,
        registeredAt: this.hal.clock.now(),
      };
      await this.config.setRegistration(registration);
      this.log.info({ terminalId: this.terminalId, policy: options.policy }, 'registered');
      return registration;
    });
  }

  /** Card inserted: open it, then download what this terminal lacks and upload what it has (FIG. 16). */
  async mount(): Promise<SyncReport | undefined> {
    await this.mutex.run(async () => {
      await this.openCard();
    });
    if ((await this.config.registration()) === undefined) return undefined;
    const how = this.options.triggers?.onMount ?? 'sync';
    if (how === 'none') return undefined;
    if (how === 'check') {
      await this.check();
      return undefined;
    }
    return this.sync('mount');
  }

  /**
   * [0044] manual mode: tells the user what waits on either side (server
   * updates not here, local changes not on the server) without syncing.
   * Resolves whether the server has updates.
   */
  async check(category?: Category): Promise<boolean> {
    const { subscriber } = await this.authenticated();
    const pending = await this.probe(subscriber, category);
    if (pending)
      this.hal.agent.notify({ kind: 'server-updates', ...(category ? { categories: [category] } : {}) });
    const dirty = await this.records.dirtyCount();
    if (dirty > 0 && category === undefined)
      this.hal.agent.notify({ kind: 'unsynced-changes', count: dirty });
    return pending;
  }

  private probe(subscriber: string, category?: Category): Promise<boolean> {
    return this.mutex.run(async () => {
      const session = await this.connect(await this.requireRegistration());
      const after = category === undefined ? await this.records.anchor() : await this.records.ahead(category);
      const reply = await session.request({
        type: 'probe',
        subscriber,
        after,
        ...(category ? { category } : {}),
      });
      if (reply.type !== 'probe-result')
        throw new SyncError('protocol', `expected probe-result, got ${reply.type}`);
      return reply.pending;
    });
  }

  /**
   * Card removed: upload what changed during this mount, holding the link
   * until done or `demountHoldMs` (FIG. 16 T1–T5), then close the link.
   */
  async demount(): Promise<SyncReport | undefined> {
    const subscriber = this.mountedSubscriber;
    this.card = undefined;
    this.mountedSubscriber = undefined;
    const upload = this.options.triggers?.onDemount ?? true;
    if (!upload || subscriber === undefined || (await this.config.registration()) === undefined) {
      await this.mutex.run(() => this.closeSession());
      return undefined;
    }
    try {
      return await this.runSync('demount', subscriber, { download: false }, this.options.demountHoldMs);
    } finally {
      await this.mutex.run(() => this.closeSession());
    }
  }

  /**
   * A sync now (user directive, a mount, or a trigger): authenticate by
   * policy (the binding check of FIG. 10-B/11-B/20/21/22), then download and
   * upload as planned.
   */
  async sync(trigger: Trigger = 'user', plan: SyncPlan = {}): Promise<SyncReport> {
    this.active++;
    try {
      const { subscriber } = await this.authenticated();
      this.mountedSubscriber = subscriber;
      return await this.runSync(trigger, subscriber, plan);
    } finally {
      this.active--;
    }
  }

  /** [0042] a1: the user's directive to upload now, just before removing the SIM. */
  uploadBeforeDemount(): Promise<SyncReport> {
    return this.sync('before-demount', { download: false });
  }

  /** The terminal-side checks of the registration's policy; resolves with the SIM's subscriber ID. */
  private async authenticated(): Promise<{ registration: Registration; subscriber: string }> {
    const registration = await this.requireRegistration();
    let subscriber: string;
    try {
      subscriber = await this.mutex.run(async () => {
        const card = await this.openCard();
        return this.config.passwordHash().then((passwordHash) =>
          authenticate({
            card,
            agent: this.hal.agent,
            policy: POLICIES[registration.policy],
            terminalId: this.terminalId,
            boundSubscriberId: registration.subscriberId,
            passwordHash,
          }),
        );
      });
    } catch (e) {
      throw this.rejected(e);
    }
    return { registration, subscriber };
  }

  private runSync(
    trigger: Trigger,
    subscriberId: string,
    plan: SyncPlan,
    limitMs?: number,
  ): Promise<SyncReport> {
    return this.mutex.run(async () => {
      const registration = await this.requireRegistration();
      let session: ServerSession;
      try {
        session = await this.connect(registration);
      } catch (e) {
        throw this.rejected(e);
      }
      const sentBefore = session.traffic.sent;
      const receivedBefore = session.traffic.received;
      const lazy = this.options.lazy;
      const ctx: RunContext = {
        session,
        store: this.records,
        agent: this.hal.agent,
        subscriberId,
        categories: registration.categories,
        batchBytes: this.options.batchBytes,
        pageBytes: this.options.pageBytes,
        budget: new Budget(plan.limits ?? {}, this.hal.clock, plan.interrupted),
        terminalId: this.terminalId,
        stubs: lazy ? { above: lazy.aboveBytes, categories: lazy.categories ?? ['archive'] } : undefined,
        toldCopies: new Set(),
      };
      const download = plan.download ?? true;
      const upload = plan.upload ?? plan.category === undefined;
      const work = async (): Promise<SyncReport> => {
        // Download first on mount so "what this terminal lacks" is exactly the others' changes.
        const downloaded = [];
        if (download && plan.category === undefined) downloaded.push(...(await catchUp(ctx)));
        if (download) downloaded.push(...(await downloadChanges(ctx, plan.category)));
        const up = upload ? await uploadDirty(ctx) : { uploaded: [], conflicts: [], setAside: [] };
        // A conflict leaves a preserved copy on the server: bring it down in the same sync.
        if (download && up.conflicts.length > 0) downloaded.push(...(await downloadChanges(ctx)));
        const stoppedBy = ctx.budget.stopped;
        return {
          trigger,
          uploaded: up.uploaded,
          downloaded,
          conflicts: up.conflicts,
          setAside: up.setAside,
          bytesSent: session.traffic.sent - sentBefore,
          bytesReceived: session.traffic.received - receivedBefore,
          upBytes: ctx.budget.up,
          downBytes: ctx.budget.down,
          complete: stoppedBy === undefined,
          ...(stoppedBy ? { stoppedBy } : {}),
        };
      };
      try {
        const report = await (limitMs === undefined ? work() : this.withLimit(work(), limitMs));
        this.hal.agent.notify({
          kind: 'sync-done',
          uploaded: report.uploaded.length,
          downloaded: report.downloaded.length,
        });
        this.log.info({ trigger, up: report.uploaded.length, down: report.downloaded.length }, 'sync done');
        return report;
      } catch (e) {
        await this.closeSession();
        throw this.rejected(e);
      }
    });
  }

  /**
   * FIG. 15 / FIG. 7b: the user's choice of sync-target categories (rights
   * follows application, [0033]) and finer criteria, stored on the server
   * and here. Categories added, or filters loosened, bring their existing
   * server data down at the next sync; a removed category stops syncing and
   * its server data stays.
   */
  async setCategories(categories: Category[], filters?: Filters): Promise<Category[]> {
    const { registration, subscriber } = await this.authenticated();
    const selected = normaliseSelection(categories);
    const granted = await this.mutex.run(async () => {
      const reply = await (await this.connect(registration)).request({
        type: 'set-categories',
        subscriber,
        categories: selected,
        ...(filters ? { filters } : {}),
      });
      if (reply.type !== 'ok') throw new SyncError('protocol', `expected ok, got ${reply.type}`);
      return reply.categories ?? selected;
    });
    const added = granted.filter((c) => !registration.categories.includes(c));
    const widened = loosened(registration.filters, filters).filter((c) => granted.includes(c));
    // The catch-up is recorded first: a power cut before the registration is
    // updated leaves a harmless extra download, never a missing one.
    await this.records.addCatchUp([...new Set([...added, ...widened])]);
    const { filters: _old, ...rest } = registration;
    await this.config.setRegistration({ ...rest, categories: granted, ...(filters ? { filters } : {}) });
    return granted;
  }

  /**
   * A user's edit of personal data. Without the SIM it is refused under the
   * default 'read-only' policy ([0023]); under 'editable' it is kept, with a
   * warning when the record exists on the server and so may conflict ([0068]).
   */
  async edit(category: Category, id: string, body: Uint8Array, meta?: RecordMeta): Promise<LocalRecord> {
    await this.checkEditable(category, id);
    return this.records.put(category, id, body, meta);
  }

  /** A user's deletion, under the same policy as `edit`. */
  async delete(category: Category, id: string): Promise<boolean> {
    await this.checkEditable(category, id);
    return this.records.remove(category, id);
  }

  private async checkEditable(category: Category, id: string): Promise<void> {
    if (this.hal.reader.present()) return;
    if ((this.options.withoutSim ?? 'read-only') === 'read-only') {
      throw new SyncError('read-only', 'personal data is read-only while no SIM is mounted', 'no-sim');
    }
    const held = await this.records.get(category, id);
    if (held !== undefined && held.base > 0) {
      this.hal.agent.notify({
        kind: 'conflict',
        category,
        recordId: id,
        detail:
          'possible conflict: edited without the SIM; if another terminal edits it too, the later edit wins and the other is kept as a copy',
      });
    }
  }

  /**
   * A user opens a record. [0043]: with `triggers.onAccess`, the server is
   * first asked whether the category has updates, and they come down.
   * [0094]: a stub's substance is fetched (resuming a fetch a link drop cut).
   */
  async open(category: Category, id: string): Promise<LocalRecord | undefined> {
    const onAccess = this.options.triggers?.onAccess;
    const registration = await this.config.registration();
    if (onAccess && registration?.categories.includes(category) && this.hal.reader.present()) {
      const last = this.probedAt.get(category);
      const now = this.hal.clock.now();
      if (last === undefined || now - last >= (onAccess.minIntervalMs ?? 0)) {
        this.probedAt.set(category, now);
        await this.accessSync(category).catch((e) =>
          this.log.warn({ category, error: String(e) }, 'access probe failed'),
        );
      }
    }
    const record = await this.records.get(category, id);
    if (record?.stub === undefined) return record?.body === null ? undefined : record;
    return this.fetch(category, id);
  }

  private async accessSync(category: Category): Promise<void> {
    const { subscriber } = await this.authenticated();
    if (!(await this.probe(subscriber, category))) return;
    await this.launch('access', () => this.sync('access', { category, upload: false }));
  }

  /** [0094]: fetches a stub's substance now (resuming where a link drop cut it). */
  async fetch(category: Category, id: string): Promise<LocalRecord> {
    const { registration, subscriber } = await this.authenticated();
    return this.mutex.run(async () => {
      try {
        return await fetchSubstance(
          {
            session: await this.connect(registration),
            store: this.records,
            partial: this.partial,
            subscriberId: subscriber,
            chunkBytes: this.options.lazy?.chunkBytes ?? 64 * 1024,
          },
          category,
          id,
        );
      } catch (e) {
        await this.closeSession();
        throw this.rejected(e);
      }
    });
  }

  /**
   * FIG. 20 collective erase (S81–S87): verify the binding, upload everything
   * unsynced, confirm the server acknowledged it, then erase. Refused, with
   * nothing erased, when anything chosen is still unsynced afterwards. A power
   * cut anywhere is recovered by `create` (see EraseIntent).
   */
  async erase(options: EraseOptions = {}): Promise<EraseReport> {
    const factory = options.factory ?? false;
    const categories = factory ? [...CATEGORIES] : normaliseSelection(options.categories ?? CATEGORIES);
    if (!factory && options.categories?.includes('rights')) categories.push('rights');
    const { registration, subscriber } = await this.authenticated();
    await this.eraseIntent.begin({ categories, factory });
    let uploaded = 0;
    try {
      uploaded = (await this.runSync('erase', subscriber, { download: false })).uploaded.length;
    } catch (e) {
      await this.eraseIntent.abandon();
      throw e;
    }
    if (factory && POLICIES[registration.policy].binding === 'terminal-list') await this.leaveSimList();
    const erased = await this.eraseIntent.finish();
    if (erased === undefined) {
      await this.eraseIntent.abandon();
      const left = await this.records.unsynced(categories);
      throw this.rejected(
        new SyncError('aborted', `nothing erased: ${left} change(s) are not on the server yet`, 'unsynced'),
      );
    }
    if (factory) {
      this.mountedSubscriber = undefined;
      await this.mutex.run(() => this.closeSession());
    }
    this.log.info({ categories, erased, factory }, 'collective erase');
    return { categories, erased, uploaded, factory };
  }

  /** FIG. 11-A undone: this terminal's ID leaves the SIM's list, when the SIM is here. */
  private async leaveSimList(): Promise<void> {
    if (!this.hal.reader.present()) return;
    await this.mutex.run(async () => {
      const card = await this.openCard();
      const listed = await card.readTerminalIds();
      if (listed.includes(this.terminalId))
        await card.writeTerminalIds(listed.filter((t) => t !== this.terminalId));
    });
  }

  private withLimit<T>(work: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.hal.clock.setTimeout(() => {
        reject(new SyncError('aborted', `sync stopped after ${ms} ms; finished work is kept`));
      }, ms);
      work.then(
        (v) => {
          this.hal.clock.clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          this.hal.clock.clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private async connect(registration: Registration): Promise<ServerSession> {
    if (this.session?.isOpen) return this.session;
    this.session = await ServerSession.connect({
      link: this.hal.link,
      clock: this.hal.clock,
      terminalId: this.terminalId,
      channel: 't',
      password: registration.credential,
      timeoutMs: this.options.timeoutMs,
      onNotice: (notice) => this.hal.agent.notify({ kind: 'server-updates', categories: notice.categories }),
    });
    return this.session;
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  private async openCard(): Promise<SimCard> {
    if (this.card !== undefined) return this.card;
    if (!this.hal.reader.present()) throw new SyncError('no-card', 'no SIM is mounted in this terminal');
    this.card = await this.hal.reader.open();
    return this.card;
  }

  private async requireRegistration(): Promise<Registration> {
    const registration = await this.config.registration();
    if (registration === undefined) {
      throw this.rejected(
        new SyncError('not-registered', 'this terminal is not registered: run the registration first'),
      );
    }
    return registration;
  }

  /** Tells the user why a sync did not happen (FIG. 9 S17, 10-B S35, 13 S55), once per error. */
  private rejected(error: unknown): unknown {
    if (error instanceof Error && !reported.has(error)) {
      reported.add(error);
      this.hal.agent.notify({ kind: 'sync-rejected', reason: error.message });
      const kind = (error as { kind?: unknown }).kind;
      const code = (error as { code?: unknown }).code;
      this.log.warn({ kind, code }, error.message);
    }
    return error;
  }

  private reportFailure(trigger: Trigger, error: unknown): void {
    this.rejected(error);
    this.log.error({ trigger, error: String(error) }, 'trigger failed');
  }
}

const reported = new WeakSet<Error>();
