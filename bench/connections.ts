import { ServerSession } from '../core/index.js';
import { SystemClock, TcpLink } from '../hal-linux/index.js';
import { JsonLineChild, openFilesLimit, spawnBroker, spawnNode } from './broker-child.js';
import { imsi, inBatches } from './fixtures.js';
import { type BenchResult, machine, printResult, type Row } from './report.js';

/**
 * Issue 8 §4: idle terminals connected to one sync server process, up to
 * `target` or what the machine allows; reports the broker's RSS (after a
 * garbage collection) as connections are added, and RSS per connection.
 * Each idle terminal is registered for real (FIG. 19 shop code claimed on
 * the reg channel, which hands out its credential), then holds one
 * authenticated, subscribed MQTT connection from a client process (see
 * idle-clients.ts). Registration is set-up, not measured.
 */
export interface ConnectionsOptions {
  target?: number;
  /** RSS is read after each of this many equal steps. */
  steps?: number;
  /** Connections opened at once by each client process. */
  batch?: number;
  timeoutMs?: number;
}

export const quick: ConnectionsOptions = { target: 200 };

const GIB = 2 ** 30;
const MIB = 2 ** 20;
/** Descriptors the broker process needs besides its connections (stdio, listener, store, epoll, …). */
const BROKER_FDS = 100;
const TERMINALS_PER_SUBSCRIBER = 10;

async function register(port: number, ids: string[], codes: string[], timeoutMs: number): Promise<string[]> {
  const clock = new SystemClock();
  return inBatches(ids, 64, async (terminalId, i) => {
    const subscriber = imsi(Math.floor(i / TERMINALS_PER_SUBSCRIBER));
    const session = await ServerSession.connect({
      link: new TcpLink({ host: '127.0.0.1', port, timeoutMs }),
      clock,
      terminalId,
      channel: 'reg',
      password: `${subscriber}:${codes[i]}`,
      timeoutMs,
    });
    try {
      const reply = await session.request({ type: 'register', subscriber, categories: ['contacts'] });
      if (reply.type !== 'registered') throw new Error(`registration of ${terminalId}: ${reply.type}`);
      return reply.credential;
    } finally {
      await session.close();
    }
  });
}

export async function run(options: ConnectionsOptions = {}): Promise<BenchResult> {
  const target = options.target ?? 20_000;
  const steps = options.steps ?? 4;
  const batch = options.batch ?? 200;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const limit = openFilesLimit();
  const count = Math.min(target, limit - BROKER_FDS);
  const perProcess = limit - BROKER_FDS;
  const broker = await spawnBroker('sync', { data: ':memory:', timeoutMs });
  const clients: JsonLineChild[] = [];
  const rows: Row[] = [];
  try {
    const ids = Array.from({ length: count }, (_, i) => `idle-${i}`);
    const groups = Array.from({ length: Math.ceil(count / TERMINALS_PER_SUBSCRIBER) }, (_, s) =>
      ids.slice(s * TERMINALS_PER_SUBSCRIBER, (s + 1) * TERMINALS_PER_SUBSCRIBER),
    );
    const codes = (
      await inBatches(groups, 16, (group, s) => broker.shop(imsi(s), group, ['contacts']))
    ).flat();
    const credentials = await register(broker.port, ids, codes, timeoutMs);
    for (let i = 0; i < Math.ceil(count / perProcess); i++) {
      const child = new JsonLineChild(spawnNode('idle-clients.ts', []), timeoutMs * 4);
      await child.hello;
      clients.push(child);
    }
    const base = await broker.stats();
    rows.push({
      connections: 0,
      broker_rss_mib: Number((base.rss / MIB).toFixed(1)),
      kib_per_connection: 0,
      failed: 0,
    });
    let connected = 0;
    let failed = 0;
    for (let step = 1; step <= steps; step++) {
      const upTo = Math.round((count * step) / steps);
      const slice = ids.slice(connected + failed, upTo).map((id, j) => ({
        id,
        credential: credentials[connected + failed + j] as string,
      }));
      // Each client process takes the terminals whose index falls in its share.
      const shares = clients.map((_, c) =>
        slice.filter((_, j) => Math.floor((connected + failed + j) / perProcess) === c),
      );
      const opened = await Promise.all(
        shares.map((terminals, c) =>
          terminals.length === 0
            ? Promise.resolve({ opened: 0, failed: 0 })
            : (clients[c] as JsonLineChild).call('open', { port: broker.port, terminals, batch }),
        ),
      );
      connected += opened.reduce((n, o) => n + Number(o.opened), 0);
      failed += opened.reduce((n, o) => n + Number(o.failed), 0);
      const now = await broker.stats();
      rows.push({
        connections: connected,
        broker_rss_mib: Number((now.rss / MIB).toFixed(1)),
        kib_per_connection: Number(((now.rss - base.rss) / 1024 / Math.max(1, connected)).toFixed(1)),
        failed,
      });
    }
    const last = rows.at(-1) as Row;
    const perConnection = (Number(last.broker_rss_mib) * MIB - base.rss) / Math.max(1, connected);
    const projected = base.rss + perConnection * 20_000;
    return {
      bench: 'connections',
      startedAt: new Date().toISOString(),
      machine: machine(),
      parameters: {
        target,
        attempted: count,
        openFilesLimit: limit,
        clientProcesses: clients.length,
        brokerBaseRssMiB: Number((base.rss / MIB).toFixed(1)),
        projectedRssAt20000MiB: Math.round(projected / MIB),
        note:
          count < target
            ? `the open-files hard limit (${limit}) caps one broker process at ${count} connections`
            : 'all connections attempted',
      },
      rows,
      targets: {
        [`${connected} idle terminals connected, none refused`]: failed === 0 && connected === count,
        [`broker RSS under 1 GiB at ${connected} connections`]: Number(last.broker_rss_mib) * MIB < GIB,
        '20,000 idle terminals in under 1 GiB (projected from RSS per connection)': projected < GIB,
      },
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await broker.close();
  }
}

export const print = printResult;
