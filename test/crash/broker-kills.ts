import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore, type SyncStore, startSyncServer } from '../../broker/index.js';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { Terminal, utf8 } from '../../core/index.js';
import { SystemClock, TcpLink } from '../../hal-linux/index.js';
import { SimCardReader, SimNvStore } from '../../hal-sim/index.js';
import { Seeded } from '../fuzz/seeded.js';
import { freePort, type ServerProcess, startServer } from './server-process.js';

const IMSI = '001010000000102';
const ICCID = '8988211000000430010';
const LOGIN = 'login-secret-1';
const KEYRING = { pin: '1234', terminalPassword: 'terminal-pw' };

export interface BrokerKillOptions {
  kills: number;
  terminals: number;
  seed: number;
}

export interface BrokerKillResult {
  kills: number;
  seed: number;
  terminals: number;
  /** Records the terminals created (each once, each its own ID). */
  edits: number;
  /** Records a terminal held as acknowledged at some kill (counted at each kill). */
  acknowledgedChecked: number;
  /** Acknowledged records missing from the SQLite file after a kill (must be 0). */
  lostAcknowledged: number;
  /** Records applied more than once (must be 0). */
  duplicates: number;
  /** Edits never on the server after the final sync (must be 0). */
  neverUploaded: number;
  /** Terminals whose records differ from the server's after the final sync (must be 0). */
  unconverged: number;
  /** Syncs that failed because the server was killed under them (retried later). */
  failedSyncs: number;
  peakServerRss: number;
  problems: string[];
}

interface Agent {
  name: string;
  terminal: Terminal;
  nextEdit: number;
}

/** Records in the server's SQLite file: id → how many changes the log holds for it. */
async function serverRecords(store: SyncStore): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const e of await store.changeLog(IMSI, 0, 10_000_000))
    counts.set(e.recordId, (counts.get(e.recordId) ?? 0) + 1);
  return counts;
}

async function acknowledged(agent: Agent): Promise<string[]> {
  const records = await agent.terminal.records.list('contacts');
  return records.filter((r) => r.id.startsWith(`${agent.name}-`) && !r.dirty && r.base > 0).map((r) => r.id);
}

/**
 * Issue 21 "Real crashes": the real `simsync server` process (SQLite in a
 * data directory) is SIGKILLed `kills` times while `terminals` engine
 * terminals (core Terminal over TCP) create records and sync; after each
 * kill the SQLite file is opened here and must hold every record any
 * terminal holds as acknowledged. The server restarts on the same port;
 * the terminals' failed syncs are simply retried. At the end every record
 * is on the server exactly once and every terminal holds what the server holds.
 */
export async function runBrokerKills(options: BrokerKillOptions): Promise<BrokerKillResult> {
  const random = new Seeded(options.seed);
  const data = await mkdtemp(path.join(tmpdir(), 'simsync-broker-kills-'));
  const file = path.join(data, 'simsync.db');
  const result: BrokerKillResult = {
    kills: 0,
    seed: options.seed,
    terminals: options.terminals,
    edits: 0,
    acknowledgedChecked: 0,
    lostAcknowledged: 0,
    duplicates: 0,
    neverUploaded: 0,
    unconverged: 0,
    failedSyncs: 0,
    peakServerRss: 0,
    problems: [],
  };
  const setup = openSqliteStore(file);
  const admin = await startSyncServer({ store: setup, port: null });
  await admin.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
  await admin.close();
  await setup.close();

  const port = await freePort();
  let server: ServerProcess = await startServer(data, port);
  const clock = new SystemClock();
  const agents: Agent[] = [];
  let running = true;
  try {
    for (let i = 0; i < options.terminals; i++) {
      const reader = new SimCardReader({ name: `t${i}-reader` });
      const terminal = await Terminal.create(
        {
          reader,
          nv: new SimNvStore(),
          link: new TcpLink({ host: '127.0.0.1', port, timeoutMs: 3000 }),
          clock,
          agent: new KeyringAgent(KEYRING),
        },
        { timeoutMs: 3000, batchBytes: 2048 },
      );
      reader.insert(SimWorld.sim());
      await terminal.setTerminalPassword(KEYRING.terminalPassword);
      await terminal.register({
        policy: 'fig10-subscriber-binding',
        secret: LOGIN,
        categories: ['contacts'],
      });
      agents.push({ name: `t${i}`, terminal, nextEdit: 0 });
    }
    const work = agents.map(async (agent) => {
      while (running) {
        for (let n = random.between(1, 6); n > 0; n--) {
          const id = `${agent.name}-${agent.nextEdit++}`;
          await agent.terminal.edit('contacts', id, utf8(`${id} `.padEnd(random.between(20, 900), '.')));
          result.edits++;
        }
        const synced = await agent.terminal.sync().then(
          () => true,
          () => false,
        );
        if (!synced) result.failedSyncs++;
        // While the server is down a terminal retries now and then, as its triggers would.
        await new Promise((r) => setTimeout(r, synced ? random.int(30) : 250));
      }
    });
    for (let kill = 0; kill < options.kills; kill++) {
      await new Promise((r) => setTimeout(r, random.between(100, 900)));
      result.peakServerRss = Math.max(result.peakServerRss, server.peakRss());
      await server.kill();
      result.kills++;
      const acked = (await Promise.all(agents.map(acknowledged))).flat();
      const store = openSqliteStore(file);
      try {
        const held = await serverRecords(store);
        result.acknowledgedChecked += acked.length;
        const lost = acked.filter((id) => !held.has(id));
        result.lostAcknowledged += lost.length;
        if (lost.length > 0)
          result.problems.push(
            `kill ${kill} (seed ${options.seed}): acknowledged but not stored: ${lost.join(', ')}`,
          );
      } finally {
        await store.close();
      }
      server = await startServer(data, port);
    }
    running = false;
    await Promise.all(work);
    // The final rounds: every terminal uploads what it has left, then all download everything.
    for (let round = 0; round < 3; round++)
      for (const agent of agents) await agent.terminal.sync().catch(() => result.failedSyncs++);
    result.peakServerRss = Math.max(result.peakServerRss, server.peakRss());
    await server.stop();
    const store = openSqliteStore(file);
    try {
      const held = await serverRecords(store);
      for (const [id, count] of held) {
        if (count === 1) continue;
        result.duplicates += count - 1;
        result.problems.push(`${id} applied ${count} times (seed ${options.seed})`);
      }
      for (const agent of agents) {
        for (let n = 0; n < agent.nextEdit; n++) {
          if (held.has(`${agent.name}-${n}`)) continue;
          result.neverUploaded++;
          result.problems.push(`${agent.name}-${n} never reached the server (seed ${options.seed})`);
        }
        const local = (await agent.terminal.records.list('contacts')).filter(
          (r) => r.body !== null && !r.dirty,
        );
        const ids = new Set(local.map((r) => r.id));
        if (ids.size !== held.size || [...held.keys()].some((id) => !ids.has(id))) {
          result.unconverged++;
          result.problems.push(
            `${agent.name} holds ${ids.size} records, the server ${held.size} (seed ${options.seed})`,
          );
        }
      }
    } finally {
      await store.close();
    }
  } finally {
    running = false;
    for (const agent of agents) await agent.terminal.stop().catch(() => undefined);
    await server.kill();
    await rm(data, { recursive: true, force: true });
  }
  return result;
}
