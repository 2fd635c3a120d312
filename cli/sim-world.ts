import {
  type AkaVault,
  openSqliteStore,
  type SyncServer,
  type SyncStore,
  startSyncServer,
} from '../broker/index.js';
import {
  type Category,
  type Logger,
  type PolicyName,
  silentLogger,
  Terminal,
  type TerminalOptions,
} from '../core/index.js';
import { byteStreamDuplex } from '../core/net/byte-stream-duplex.js';
import type { Clock, Notice, RadioLink, UserAgent } from '../hal/index.js';
import { SystemClock, TcpLink } from '../hal-linux/index.js';
import { createDuplexPair, SimCardReader, SimNvStore, SimRadioLink } from '../hal-sim/index.js';
import { VirtualUicc, type VirtualUiccProfile } from '../uicc/index.js';

/** The user's secrets, answered at every prompt by `KeyringAgent`. */
export interface Keyring {
  pin: string;
  terminalPassword: string;
}

/**
 * A user agent that answers prompts from a keyring and keeps every notice:
 * the demo's stand-in for a person at the terminal. Tests that need wrong
 * answers use hal-sim's ScriptedUserAgent instead.
 */
export class KeyringAgent implements UserAgent {
  readonly notices: Notice[] = [];

  constructor(
    public keyring: Keyring,
    private readonly onNotice: (notice: Notice) => void = () => {},
  ) {}

  async askPin(): Promise<string | undefined> {
    return this.keyring.pin;
  }

  async askTerminalPassword(): Promise<string | undefined> {
    return this.keyring.terminalPassword;
  }

  async askPermission(): Promise<boolean> {
    return true;
  }

  notify(notice: Notice): void {
    this.notices.push(notice);
    this.onNotice(notice);
  }
}

export interface SimTerminal {
  name: string;
  terminal: Terminal;
  reader: SimCardReader;
  nv: SimNvStore;
  agent: UserAgent;
}

/** How terminals reach the server: loopback TCP, or in-memory pipes into the broker. */
export type SimTransport = 'tcp' | 'memory';

/** The source address the server sees for a terminal on an in-memory link (attempt limits, the log). */
export const MEMORY_LINK_ADDRESS = '127.0.0.2';

export interface SimWorldOptions {
  /**
   * 'tcp' (default): the server listens on loopback TCP and terminals get
   * TcpLinks. 'memory': no socket at all; each link is a hal-sim
   * SimRadioLink whose streams are in-memory pipes handed to the broker
   * (SyncServer.accept) through the same guards as a TCP connection, from
   * MEMORY_LINK_ADDRESS. Use TCP where TCP is the thing tested.
   */
  transport?: SimTransport;
  /**
   * The clock of the terminals and of the server's `now` (default the
   * system clock). With a hal-sim VirtualClock, triggers fire when the test
   * advances it; MQTT keep-alives and the server's own housekeeping stay on
   * real time.
   */
  clock?: Clock;
  /** Server store; default an in-memory SQLite database. */
  store?: SyncStore;
  logger?: Logger;
  /**
   * Several broker processes' worth of servers sharing one Redis and one
   * store (DESIGN.md "Scale"): each opens its own store connection; the
   * terminals' links go to the brokers in turn. `server` is the first.
   */
  cluster?: { redis: string; brokers: number; openStore: () => Promise<SyncStore> };
  /** The server keys for subscribers' AKA keys (broker/aka-vault.ts), on every broker. */
  akaVault?: AkaVault;
}

/**
 * A sync server and simulated terminals around it: the setting of FIG. 1 /
 * FIG. 16 in one process. Each terminal has its own simulated card reader
 * and NV store and reaches the server over loopback TCP or an in-memory
 * pipe (SimWorldOptions.transport).
 */
export class SimWorld {
  private readonly terminals: SimTerminal[] = [];
  private links = 0;

  private constructor(
    readonly server: SyncServer,
    /** The other brokers of a cluster (SimWorldOptions.cluster). */
    readonly peers: readonly SyncServer[],
    private readonly logger: Logger,
    readonly transport: SimTransport,
    readonly clock: Clock,
  ) {}

  static async start(options: SimWorldOptions = {}): Promise<SimWorld> {
    const { cluster, transport = 'tcp', clock = new SystemClock() } = options;
    const broker = async (store: SyncStore) =>
      startSyncServer({
        store,
        host: '127.0.0.1',
        port: transport === 'tcp' ? 0 : null,
        now: () => clock.now(),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.akaVault ? { akaVault: options.akaVault } : {}),
        ...(cluster ? { redis: cluster.redis, revocationPollMs: 100 } : {}),
      });
    const server = await broker(
      options.store ?? (cluster ? await cluster.openStore() : openSqliteStore(':memory:')),
    );
    const peers: SyncServer[] = [];
    for (let i = 1; i < (cluster?.brokers ?? 1); i++) peers.push(await broker(await cluster!.openStore()));
    return new SimWorld(server, peers, options.logger ?? silentLogger, transport, clock);
  }

  get port(): number {
    if (this.server.port === null) throw new Error('server has no TCP port');
    return this.server.port;
  }

  /** A virtual SIM as an operator would issue it (see uicc/ for the profile). */
  static sim(profile: Partial<VirtualUiccProfile> = {}): VirtualUicc {
    return new VirtualUicc({
      iccid: '8988211000000430010',
      imsi: '001010000000102',
      pin: '1234',
      ...profile,
    });
  }

  /**
   * A link to the server; in a cluster, to its brokers in turn. Over TCP a
   * TcpLink; in memory a `memoryLink`.
   */
  link(): RadioLink {
    const servers = [this.server, ...this.peers];
    const server = servers[this.links++ % servers.length] ?? this.server;
    if (this.transport === 'memory') return memoryLink(server);
    return new TcpLink({ host: '127.0.0.1', port: server.port ?? this.port, timeoutMs: 5000 });
  }

  async addTerminal(
    name: string,
    agent: UserAgent,
    options: TerminalOptions & { nv?: SimNvStore; link?: RadioLink } = {},
  ): Promise<SimTerminal> {
    const reader = new SimCardReader({ name: `${name}-reader` });
    const { nv = new SimNvStore(), link = this.link(), ...terminalOptions } = options;
    const terminal = await Terminal.create(
      { reader, nv, link, clock: this.clock, agent },
      { timeoutMs: 5000, logger: this.logger, ...terminalOptions },
    );
    const t = { name, terminal, reader, nv, agent };
    this.terminals.push(t);
    return t;
  }

  /**
   * Sets a terminal up the way a user does the first time: a terminal
   * password, then FIG. 8 registration with the subscriber's login password
   * under the chosen policy (FIG. 10-A or 11-A binding). The SIM must be in
   * the terminal's reader.
   */
  async register(
    t: SimTerminal,
    how: { policy: PolicyName; loginPassword: string; terminalPassword: string; categories: Category[] },
  ): Promise<void> {
    await t.terminal.setTerminalPassword(how.terminalPassword);
    await t.terminal.register({ policy: how.policy, secret: how.loginPassword, categories: how.categories });
  }

  /** Puts the SIM in a terminal and waits for the mount sync (FIG. 16). */
  async insert(t: SimTerminal, sim: VirtualUicc): Promise<void> {
    await t.reader.insert(sim);
    await t.terminal.settled();
  }

  /** Takes the SIM out and waits for the demount upload (FIG. 16 T1–T5). */
  async remove(t: SimTerminal): Promise<void> {
    t.reader.remove();
    await t.terminal.settled();
  }

  async close(): Promise<void> {
    for (const t of this.terminals) await t.terminal.stop();
    for (const s of [this.server, ...this.peers]) {
      await s.close();
      await s.store.close();
    }
  }
}

/**
 * A hal-sim SimRadioLink (link state, failed opens, counters) whose every
 * `open()` is a new in-memory pipe into `server`'s broker, served as a plain
 * TCP connection from MEMORY_LINK_ADDRESS.
 */
export function memoryLink(server: SyncServer): SimRadioLink {
  return new SimRadioLink({
    connect: () => {
      const [terminalEnd, serverEnd] = createDuplexPair();
      server.accept(byteStreamDuplex(serverEnd, { sent: 0, received: 0 }), MEMORY_LINK_ADDRESS);
      return terminalEnd;
    },
  });
}
