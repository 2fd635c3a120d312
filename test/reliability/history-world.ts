import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KeyringAgent } from '../../cli/sim-world.js';
import { type Category, hashPassword, type SyncReport, Terminal, TerminalConfig } from '../../core/index.js';
import { SimCardReader, SimNvStore, VirtualClock } from '../../hal-sim/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import type { TerminalPlan } from './history.js';
import { InProcessServer, type PipeLink } from './in-process-server.js';
import { KEYRING, newSim, type Template } from './template.js';

/** Waits this long (real time) with no byte moving before letting virtual time jump past a timeout. */
const STALL_MS = 1000;
const TIMEOUT_MS = 5000;

/** One terminal of a history, with its hardware kept across reboots. */
export interface Node {
  index: number;
  plan: TerminalPlan;
  nv: SimNvStore;
  reader: SimCardReader;
  agent: KeyringAgent;
  link: PipeLink;
  terminal: Terminal;
  /** Categories asked for by a setCategories that failed: the user asks again once the faults stop. */
  wantedCategories?: Category[];
}

/**
 * The world one history runs in: a copy of the template's server database
 * behind an in-process broker, the template's terminals on fresh simulated
 * NV stores, one SIM, one virtual clock.
 */
export class HistoryWorld {
  readonly sim: VirtualUicc = newSim();
  readonly nodes: Node[] = [];
  /** Bytes moved on any pipe, for stall detection and the broker-restart trigger. */
  traffic = 0;
  private restartAt: number | undefined;
  private restarting: Promise<void> | undefined;
  /** Broker restarts that happened. */
  restarts = 0;

  private constructor(
    readonly server: InProcessServer,
    private readonly database: string,
    readonly clock: VirtualClock,
  ) {}

  static async open(template: Template, plans: readonly TerminalPlan[], name: string): Promise<HistoryWorld> {
    const database = join(template.dir, `${name}.db`);
    copyFileSync(template.database, database);
    // One virtual clock for the terminals and the server.
    const clock = new VirtualClock({ microtaskTurns: 20 });
    const server = await InProcessServer.open(database, clock);
    const w = new HistoryWorld(server, database, clock);
    for (const [index, plan] of plans.entries()) {
      const nv = new SimNvStore();
      const entries = template.nv[index] ?? [];
      await nv.commit(entries.map((e) => ({ op: 'put' as const, key: e.key, value: e.value })));
      const reader = new SimCardReader();
      const agent = new KeyringAgent({ ...KEYRING });
      const link = server.link((bytes) => w.moved(bytes));
      const node: Node = { index, plan, nv, reader, agent, link, terminal: undefined as never };
      node.terminal = await w.boot(node);
      w.nodes.push(node);
    }
    return w;
  }

  private boot(node: Node): Promise<Terminal> {
    const { nv, reader, agent, link, plan } = node;
    return Terminal.create(
      { nv, reader, agent, link, clock: this.clock },
      {
        timeoutMs: TIMEOUT_MS,
        pageBytes: plan.pageBytes,
        batchBytes: plan.batchBytes,
        withoutSim: plan.withoutSim,
        ...(plan.lazy ? { lazy: { aboveBytes: 100, categories: ['mail', 'pim'], chunkBytes: 128 } } : {}),
      },
    );
  }

  /** After a power cut: power back on, the old engine gone, a fresh one over the same flash (the card re-powered too). */
  async reboot(node: Node): Promise<void> {
    node.nv.powerOn();
    await this.settle(node.terminal.stop()).catch(() => {});
    if (node.reader.present()) {
      node.reader.remove();
      node.reader.insert(this.sim);
    }
    node.terminal = await this.settle(this.boot(node));
  }

  /** The SIM into `node` (out of wherever it was). */
  moveSim(node: Node): void {
    for (const other of this.nodes) if (other !== node && other.reader.present()) other.reader.remove();
    if (!node.reader.present()) node.reader.insert(this.sim);
  }

  holder(): Node | undefined {
    return this.nodes.find((n) => n.reader.present());
  }

  /** The broker restarts once `bytes` more have crossed. */
  restartAfter(bytes: number): void {
    this.restartAt = this.traffic + bytes;
    if (bytes === 0) this.moved(0);
  }

  /** The faults stop. */
  disarm(): void {
    this.restartAt = undefined;
    for (const node of this.nodes) {
      node.link.disarm();
      // A yank still armed goes with the card: taken out and put back.
      if (node.reader.present()) {
        node.reader.remove();
        node.reader.insert(this.sim);
      }
      // Far beyond any history: the cut never comes (SimNvStore re-arms rather than adds).
      node.nv.cutPowerAtCommit(Number.MAX_SAFE_INTEGER);
    }
  }

  /** Waits for a restart under way, so the next step sees the broker back. */
  async quiet(): Promise<void> {
    await this.restarting;
  }

  /**
   * Awaits `work` on virtual time: when no byte has moved for STALL_MS of
   * real time, the clock jumps past the request timeout, as time would pass
   * on a real terminal waiting for an answer that is not coming.
   */
  async settle<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const watched = work.finally(() => {
      done = true;
    });
    watched.catch(() => {});
    let seen = this.traffic;
    let since = Date.now();
    while (!done) {
      await new Promise((r) => setImmediate(r));
      if (this.traffic !== seen) {
        seen = this.traffic;
        since = Date.now();
      } else if (Date.now() - since > STALL_MS) {
        await this.clock.advance(TIMEOUT_MS + 1);
        since = Date.now();
      }
    }
    return work;
  }

  /** A sync of `node`, with its report. */
  sync(
    node: Node,
    trigger: SyncReport['trigger'],
    plan: Parameters<Terminal['sync']>[1] = {},
  ): Promise<SyncReport> {
    return this.settle(node.terminal.sync(trigger, plan));
  }

  /** FIG. 8 again after a factory erase: the cheap terminal password, then registration. */
  async reregister(
    node: Node,
    policy: Parameters<Terminal['register']>[0]['policy'],
    categories: Category[],
  ): Promise<void> {
    await new TerminalConfig(node.nv).setPasswordHash(await hashPassword(KEYRING.terminalPassword, 1000));
    await this.settle(node.terminal.register({ policy, secret: 'login-secret-1', categories }));
  }

  async close(): Promise<void> {
    this.disarm();
    await this.quiet();
    for (const node of this.nodes) await this.settle(node.terminal.stop()).catch(() => {});
    await this.server.close();
    rmSync(this.database, { force: true });
    rmSync(`${this.database}-wal`, { force: true });
    rmSync(`${this.database}-shm`, { force: true });
  }

  private moved(bytes: number): void {
    this.traffic += bytes;
    if (this.restartAt === undefined || this.traffic < this.restartAt) return;
    this.restartAt = undefined;
    this.restarts++;
    this.restarting = this.server.restart();
  }
}
