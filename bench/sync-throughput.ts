import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../hal-linux/index.js';
import { type BrokerChild, type BrokerStats, spawnBroker } from './broker-child.js';
import { type BenchTerminal, body, imsi, inBatches, shopTerminal } from './fixtures.js';
import { plainPairs, plainSessions, type SessionRun } from './plain-mqtt.js';
import { type BenchResult, machine, median, percentile, printResult, type Row } from './report.js';

/**
 * Issue 8 §1: M simulated terminals, each running mount → upload k →
 * download → demount cycles over loopback TCP against the sync server in
 * its own process (a SQLite file store), against the same message count and
 * sizes as plain MQTT QoS 1 publish → subscribe through an unmodified Aedes,
 * also in its own process, in the same run.
 *
 * Terminals come in pairs sharing a subscriber (one SIM each, same profile),
 * so what one uploads the other downloads in its next cycle: a record goes
 * terminal → server → terminal, as a message goes publisher → broker →
 * subscriber in the baseline. A lone terminal (M = 1) only uploads.
 *
 * A second baseline has the sync's session shape (issue 20): each client
 * connects, subscribes, publishes k QoS 1 messages that come back through
 * the broker, and disconnects, `rounds` times, so the cost of the protocol
 * itself is told apart from the cost of a session.
 */
export interface ThroughputOptions {
  terminals?: number[] | number;
  /** Records changed per cycle. */
  k?: number;
  bodyBytes?: number;
  /** Records per M the cycles add up to, at least two cycles per terminal. */
  recordsPerRun?: number;
  timeoutMs?: number;
}

export const quick: ThroughputOptions = { terminals: [1, 10] };

interface Cycle {
  ms: number;
  up: number;
  down: number;
}

async function cycle(t: BenchTerminal, name: string, k: number, round: number, size: number): Promise<Cycle> {
  // The user's edits, with the SIM in: the set-up, not the session.
  t.reader.insert(t.card);
  const data = await t.terminal.personalData('write');
  for (let i = 0; i < k; i++) await data.edit('contacts', `${name}-${i}`, body(round * k + i, size));
  const started = performance.now();
  const report = await t.terminal.mount();
  t.reader.remove();
  await t.terminal.demount();
  return {
    ms: performance.now() - started,
    up: report?.uploaded.length ?? 0,
    down: report?.downloaded.length ?? 0,
  };
}

function brokerFigures(before: BrokerStats, after: BrokerStats, ms: number) {
  return {
    broker_cpu_pct: Math.round(((after.cpuUs - before.cpuUs) / 1000 / ms) * 100),
    broker_rss_mib: Number((after.rss / 2 ** 20).toFixed(1)),
  };
}

async function syncRun(m: number, o: Required<ThroughputOptions>, rounds: number): Promise<Row> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-throughput-'));
  const broker = await spawnBroker('sync', { data: path.join(dir, 'sync.db'), timeoutMs: o.timeoutMs });
  const clock = new SystemClock();
  const names = Array.from({ length: m }, (_, i) => `tp${m}-${i}`);
  const terminals: BenchTerminal[] = [];
  try {
    const codes: string[] = [];
    for (let pair = 0; pair * 2 < m; pair++)
      codes.push(...(await broker.shop(imsi(pair), names.slice(pair * 2, pair * 2 + 2), ['contacts'])));
    terminals.push(
      ...(await inBatches(names, 50, (terminalId, i) =>
        shopTerminal({
          port: broker.port,
          clock,
          terminalId,
          subscriber: Math.floor(i / 2),
          code: codes[i] as string,
          categories: ['contacts'],
          timeoutMs: o.timeoutMs,
        }),
      )),
    );
    const before = await broker.stats();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    const cycles: Cycle[] = [];
    let failed = 0;
    await Promise.all(
      terminals.map(async (t, i) => {
        for (let r = 0; r < rounds; r++) {
          try {
            cycles.push(await cycle(t, names[i] as string, o.k, r + 1, o.bodyBytes));
          } catch {
            failed++;
          }
        }
      }),
    );
    const ms = performance.now() - started;
    const client = process.cpuUsage(clientBefore);
    const after = await broker.stats();
    const up = cycles.reduce((n, c) => n + c.up, 0);
    const down = cycles.reduce((n, c) => n + c.down, 0);
    const latencies = cycles.map((c) => c.ms);
    return {
      M: m,
      system: 'sync',
      sessions: cycles.length,
      failed,
      records_up: up,
      records_down: down,
      ms: Math.round(ms),
      syncs_per_s: Math.round((cycles.length / ms) * 1000),
      records_per_s: Math.round((up / ms) * 1000),
      p50_ms: latencies.length ? Number(median(latencies).toFixed(1)) : 0,
      p99_ms: latencies.length ? Number(percentile(latencies, 99).toFixed(1)) : 0,
      ...brokerFigures(before, after, ms),
      client_cpu_pct: Math.round(((client.user + client.system) / 1000 / ms) * 100),
    };
  } finally {
    for (const t of terminals) await t.terminal.stop().catch(() => {});
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A plain-MQTT baseline through an unmodified Aedes in its own process: `shape`
 * 'long-lived' (plainPairs, connections kept open) or 'session' (plainSessions,
 * a connection per burst), the same records as the sync run.
 */
async function plainRun(
  shape: 'long-lived' | 'session',
  m: number,
  o: Required<ThroughputOptions>,
  rounds: number,
): Promise<Row> {
  const broker: BrokerChild = await spawnBroker('plain', { timeoutMs: o.timeoutMs });
  try {
    const before = await broker.stats();
    const clientBefore = process.cpuUsage();
    const work = { clients: m, rounds, burst: o.k, size: o.bodyBytes, timeoutMs: o.timeoutMs * 4 };
    const run: SessionRun =
      shape === 'session'
        ? await plainSessions(broker.port, work)
        : { ...(await plainPairs(broker.port, work)), sessions: 0, latencies: [] };
    const client = process.cpuUsage(clientBefore);
    const after = await broker.stats();
    return {
      M: m,
      system: shape === 'session' ? 'plain-session' : 'plain-mqtt',
      sessions: run.sessions,
      failed: 0,
      records_up: run.delivered,
      records_down: run.delivered,
      ms: Math.round(run.ms),
      syncs_per_s: Math.round((run.sessions / run.ms) * 1000),
      records_per_s: Math.round((run.delivered / run.ms) * 1000),
      p50_ms: run.latencies.length ? Number(median(run.latencies).toFixed(1)) : 0,
      p99_ms: run.latencies.length ? Number(percentile(run.latencies, 99).toFixed(1)) : 0,
      ...brokerFigures(before, after, run.ms),
      client_cpu_pct: Math.round(((client.user + client.system) / 1000 / run.ms) * 100),
    };
  } finally {
    await broker.close();
  }
}

export async function run(options: ThroughputOptions = {}): Promise<BenchResult> {
  const o: Required<ThroughputOptions> & { terminals: number[] } = {
    // `--terminals 100` gives a number, `--terminals 1,10` a list.
    terminals: [options.terminals ?? [1, 10, 100, 1000]].flat(),
    k: options.k ?? 100,
    bodyBytes: options.bodyBytes ?? 200,
    recordsPerRun: options.recordsPerRun ?? 10_000,
    timeoutMs: options.timeoutMs ?? 60_000,
  };
  const rows: Row[] = [];
  const ratios: Record<string, number> = {};
  const sessionRatios: Record<string, number> = {};
  const ratio = (a: Row, b: Row) => Number((Number(a.records_per_s) / Number(b.records_per_s)).toFixed(2));
  for (const m of o.terminals) {
    const rounds = Math.max(2, Math.ceil(o.recordsPerRun / (o.k * m)));
    const sync = await syncRun(m, o, rounds);
    const plain = await plainRun('long-lived', m, o, rounds);
    const session = await plainRun('session', m, o, rounds);
    ratios[`M=${m}`] = ratio(sync, plain);
    sessionRatios[`M=${m}`] = ratio(sync, session);
    rows.push(
      { ...sync, vs_plain: ratio(sync, plain), vs_session: ratio(sync, session) },
      { ...plain, vs_plain: 1, vs_session: ratio(plain, session) },
      { ...session, vs_plain: ratio(session, plain), vs_session: 1 },
    );
  }
  return {
    bench: 'sync-throughput',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: {
      ...o,
      syncToPlainRecordsPerSecond: ratios,
      syncToSessionShapedRecordsPerSecond: sessionRatios,
    },
    rows,
    targets: Object.fromEntries([
      ...Object.entries(ratios).map(([m, r]) => [
        `sync records/s >= 50% of plain MQTT QoS 1 (${m})`,
        r >= 0.5,
      ]),
      ...Object.entries(sessionRatios).map(([m, r]) => [
        `sync records/s >= 80% of session-shaped plain MQTT QoS 1 (${m})`,
        r >= 0.8,
      ]),
    ]),
  };
}

export const print = printResult;
