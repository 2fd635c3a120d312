import type {
  CardReader,
  Clock,
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
import { type Category, normaliseSelection } from '../protocol/index.js';
import { type IncomingChange, RecordStore } from '../store/record-store.js';
import { type Registration, TerminalConfig } from '../store/terminal-config.js';
import { type Conflict, downloadChanges, type RunContext, uploadDirty } from './sync-run.js';

/** The HAL set a terminal runs on (FIG. 3). */
export interface TerminalHal {
  reader: CardReader;
  nv: NvStore;
  link: RadioLink;
  clock: Clock;
  agent: UserAgent;
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
  logger?: Logger;
}

export type Trigger = 'mount' | 'demount' | 'user';

export interface SyncReport {
  trigger: Trigger;
  uploaded: { category: Category; id: string; seq: number }[];
  downloaded: IncomingChange[];
  conflicts: Conflict[];
  setAside: { category: Category; id: string; reason: string }[];
  bytesSent: number;
  bytesReceived: number;
}

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

  private constructor(
    private readonly hal: TerminalHal,
    readonly terminalId: string,
    private readonly options: Required<Omit<TerminalOptions, 'terminalId' | 'logger'>>,
    logger: Logger,
  ) {
    this.records = new RecordStore(hal.nv, hal.clock);
    this.config = new TerminalConfig(hal.nv);
    this.log = logger;
    // Whatever else listens, a removed card's session is gone.
    hal.reader.on('removed', () => {
      this.card = undefined;
    });
  }

  static async create(hal: TerminalHal, options: TerminalOptions = {}): Promise<Terminal> {
    const terminalId = await new TerminalConfig(hal.nv).terminalId(options.terminalId);
    return new Terminal(
      hal,
      terminalId,
      {
        timeoutMs: options.timeoutMs ?? 15_000,
        pageBytes: options.pageBytes ?? 256 * 1024,
        batchBytes: options.batchBytes ?? 256 * 1024,
        demountHoldMs: options.demountHoldMs ?? 30_000,
      },
      options.logger ?? silentLogger,
    );
  }

  registration(): Promise<Registration | undefined> {
    return this.config.registration();
  }

  /** Follows the card: mount on insertion, demount on removal (FIG. 16 timing). */
  start(): void {
    this.listeners.push(
      this.hal.reader.on('inserted', () => this.track('mount', () => this.mount())),
      this.hal.reader.on('removed', () => this.track('demount', () => this.demount())),
    );
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
    const done = run()
      .then((report) => {
        if (report !== undefined) for (const listener of this.reportListeners) listener(report);
      })
      .catch((e) => this.reportFailure(trigger, e))
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  async stop(): Promise<void> {
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
    return this.sync('mount');
  }

  /**
   * Card removed: upload what changed during this mount, holding the link
   * until done or `demountHoldMs` (FIG. 16 T1–T5), then close the link.
   */
  async demount(): Promise<SyncReport | undefined> {
    const subscriber = this.mountedSubscriber;
    this.card = undefined;
    this.mountedSubscriber = undefined;
    if (subscriber === undefined || (await this.config.registration()) === undefined) {
      await this.mutex.run(() => this.closeSession());
      return undefined;
    }
    try {
      return await this.runSync('demount', subscriber, {
        download: false,
        limitMs: this.options.demountHoldMs,
      });
    } finally {
      await this.mutex.run(() => this.closeSession());
    }
  }

  /** A sync now (user directive, or a mount): authenticate by policy, upload, download. */
  async sync(trigger: Trigger = 'user'): Promise<SyncReport> {
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
    this.mountedSubscriber = subscriber;
    return this.runSync(trigger, subscriber, { download: true });
  }

  private runSync(
    trigger: Trigger,
    subscriberId: string,
    how: { download: boolean; limitMs?: number },
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
      const ctx: RunContext = {
        session,
        store: this.records,
        agent: this.hal.agent,
        subscriberId,
        categories: registration.categories,
        batchBytes: this.options.batchBytes,
        pageBytes: this.options.pageBytes,
      };
      const work = async (): Promise<SyncReport> => {
        // Download first on mount so "what this terminal lacks" is exactly the others' changes.
        const downloaded = how.download ? await downloadChanges(ctx) : [];
        const up = await uploadDirty(ctx);
        // A conflict leaves a preserved copy on the server: bring it down in the same sync.
        if (how.download && up.conflicts.length > 0) downloaded.push(...(await downloadChanges(ctx)));
        return {
          trigger,
          uploaded: up.uploaded,
          downloaded,
          conflicts: up.conflicts,
          setAside: up.setAside,
          bytesSent: session.traffic.sent - sentBefore,
          bytesReceived: session.traffic.received - receivedBefore,
        };
      };
      try {
        const report = await (how.limitMs === undefined ? work() : this.withLimit(work(), how.limitMs));
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
