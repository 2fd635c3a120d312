import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { categoryCode, type Reply, type WireChange } from '../core/protocol/index.js';
import {
  type Cluster,
  type Deployment,
  registerTerminal,
  startCluster,
  startEmbedded,
  TerminalConnection,
} from '../test/support/cluster-harness.js';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres.js';
import { startRedis, type TestRedis } from '../test/support/redis-server.js';
import { body, imsi, inBatches } from './fixtures.js';
import { type BenchResult, machine, median, percentile, printResult, type Row } from './report.js';

/**
 * Issue 18 "Figures": sync throughput and request latency of 1, 2 and 3
 * `simsync server` processes on PostgreSQL + Redis behind HAProxy, beside the
 * embedded set-up (one process, SQLite file, no Redis, no HAProxy) measured in
 * the same run; connections each process holds, from its metrics endpoint.
 *
 * M terminals, `perSubscriber` to a subscriber, each hold one MQTT connection
 * and do `rounds` of: upload a batch editing its k records (base = the seq of
 * its last ack), then download what changed after its anchor. A record goes
 * terminal → server → its subscriber's other terminals, and every upload
 * notifies them ([0044]), across processes through Redis when clustered.
 * Deployments are run in turn, `repeats` times, the order rotated each time.
 */
export interface ClusterBenchOptions {
  terminals?: number;
  perSubscriber?: number;
  /** Records each terminal edits per upload. */
  k?: number;
  bodyBytes?: number;
  rounds?: number;
  brokers?: number[];
  repeats?: number;
  timeoutMs?: number;
}

export const quick: ClusterBenchOptions = { terminals: 10, rounds: 2, brokers: [1, 2], repeats: 1 };

type Options = Required<ClusterBenchOptions>;
const CONTACTS = categoryCode('contacts');
const PAGE_BYTES = 1024 * 1024;
/** As durable as the SQLite file store (synchronous = FULL): test/support/postgres.ts turns fsync off. */
const DURABLE = { fsync: 'on', full_page_writes: 'on', synchronous_commit: 'on' };

interface Term {
  id: string;
  subscriber: string;
  conn: TerminalConnection;
  /** Base seq of each of its k records (0 = new). */
  base: number[];
  anchor: number;
  editedAt: number;
  /** Record id → the seq this terminal last saw of it (own acks and downloads). */
  seen: Map<string, number>;
}

interface Tally {
  up: number;
  down: number;
  failed: number;
  uploadMs: number[];
  downloadMs: number[];
  /** Subscriber → every seq its uploads were acknowledged with. */
  acked: Map<string, number[]>;
}

async function timed(t: Term, message: Record<string, unknown>, o: Options, into: number[]): Promise<Reply> {
  const started = performance.now();
  const reply = await t.conn.request({ ...message, subscriber: t.subscriber }, o.timeoutMs);
  into.push(performance.now() - started);
  return reply;
}

/** Downloads after the anchor until nothing more; resolves how many records of other terminals came. */
async function download(t: Term, o: Options, into: number[]): Promise<number> {
  let others = 0;
  for (;;) {
    const reply = await timed(t, { type: 'download', after: t.anchor, maxBytes: PAGE_BYTES }, o, into);
    if (reply.type !== 'changes') throw new Error(`download refused: ${JSON.stringify(reply)}`);
    for (const [, id, seq] of reply.changes) {
      t.seen.set(id, seq);
      if (!id.startsWith(`${t.id}-`)) others++;
    }
    t.anchor = reply.next;
    if (!reply.more) return others;
  }
}

async function round(t: Term, r: number, o: Options, tally: Tally): Promise<void> {
  t.editedAt = Math.max(t.editedAt + 1, Date.now());
  const changes: WireChange[] = t.base.map((base, j) => [
    CONTACTS,
    `${t.id}-${j}`,
    base,
    t.editedAt,
    body(r * o.k + j, o.bodyBytes),
  ]);
  const ack = await timed(t, { type: 'upload', batch: r, changes }, o, tally.uploadMs);
  if (ack.type !== 'upload-ack' || ack.issues.length > 0) throw new Error(`upload: ${JSON.stringify(ack)}`);
  t.base = ack.seqs;
  for (const [j, seq] of ack.seqs.entries()) t.seen.set(`${t.id}-${j}`, seq);
  tally.acked.get(t.subscriber)?.push(...ack.seqs);
  tally.up += ack.seqs.length;
  if (t.anchor === ack.previous) t.anchor = ack.latest;
  tally.down += await download(t, o, tally.downloadMs);
}

const PARTS = ['broker', 'postgres', 'redis', 'haproxy'] as const;
type Part = (typeof PARTS)[number];
interface Proc {
  pid: number;
  ppid: number;
  cmd: string;
  /** utime + stime, seconds. */
  cpu: number;
}

/** Every process now (proc(5): stat fields 4, 14 and 15 after the command name; USER_HZ = 100). */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
      out.push({ pid: Number(entry), ppid: Number(fields[1]), cmd, cpu });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/** CPU seconds of each part of the deployment, by pid: PostgreSQL is its postmaster and every child. */
function cpuByPart(d: Deployment | Cluster): Map<Part, Map<number, number>> {
  const all = processes();
  const brokers = new Set(d.brokers.map((b) => b.process.pid));
  const cluster = 'postgres' in d ? d : undefined;
  const postmaster = all.find(
    (p) => cluster && / -D /.test(p.cmd) && p.cmd.includes(` -p ${cluster.postgres.port} `),
  );
  const partOf = (p: Proc): Part | undefined => {
    if (brokers.has(p.pid)) return 'broker';
    if (!cluster) return undefined;
    if (p.pid === postmaster?.pid || p.ppid === postmaster?.pid) return 'postgres';
    if (p.cmd.startsWith(`redis-server 127.0.0.1:${cluster.redis.port}`)) return 'redis';
    if (p.pid === cluster.haproxy.pid) return 'haproxy';
    return undefined;
  };
  const parts = new Map<Part, Map<number, number>>(PARTS.map((part) => [part, new Map()]));
  for (const p of all) {
    const part = partOf(p);
    if (part) parts.get(part)?.set(p.pid, p.cpu);
  }
  return parts;
}

/** CPU seconds per part between two samples (a process started in between counts from 0). */
function cpuSpent(before: Map<Part, Map<number, number>>, after: Map<Part, Map<number, number>>) {
  const spent = (part: Part) => {
    let seconds = 0;
    for (const [pid, cpu] of after.get(part) ?? []) seconds += cpu - (before.get(part)?.get(pid) ?? 0);
    return seconds;
  };
  return new Map(PARTS.map((part) => [part, spent(part)]));
}

/** Busy and total jiffies of the whole machine (proc(5) /proc/stat, first line). */
function machineJiffies(): { busy: number; total: number } {
  const [, ...values] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - (n[3] ?? 0) - (n[4] ?? 0), total };
}

async function connectionsHeld(d: Deployment, expected: number): Promise<number[]> {
  let counts: number[] = [];
  for (let i = 0; i < 50; i++) {
    counts = await Promise.all(d.brokers.map((b) => b.connectedClients()));
    if (counts.reduce((a, b) => a + b, 0) >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return counts;
}

/** One run on a started deployment: register, connect, then the timed rounds. */
async function measure(d: Deployment, o: Options): Promise<Row> {
  const subscribers = Array.from({ length: Math.ceil(o.terminals / o.perSubscriber) }, (_, s) => imsi(s));
  for (const subscriber of subscribers) await d.admin.addSubscriber({ subscriber });
  const ids = Array.from({ length: o.terminals }, (_, i) => `c${i}`);
  const subscriberOf = (i: number) => subscribers[Math.floor(i / o.perSubscriber)] as string;
  // Set-up, not timed. A server hashes at most 2 registration secrets per source address at once.
  const credentials = await inBatches(ids, 2, (id, i) =>
    registerTerminal(d.port, d.admin, { id, subscriber: subscriberOf(i), categories: ['contacts'] }),
  );
  const terms = await inBatches(ids, 25, async (id, i): Promise<Term> => {
    const conn = await TerminalConnection.terminal(d.port, id, credentials[i] as string);
    const base = new Array<number>(o.k).fill(0);
    return { id, subscriber: subscriberOf(i), conn, base, anchor: 0, editedAt: 0, seen: new Map() };
  });
  try {
    const held = await connectionsHeld(d, o.terminals);
    const tally: Tally = { up: 0, down: 0, failed: 0, uploadMs: [], downloadMs: [], acked: new Map() };
    for (const s of subscribers) tally.acked.set(s, []);
    const cpuBefore = cpuByPart(d);
    const client = process.cpuUsage();
    const jiffies = machineJiffies();
    const started = performance.now();
    await Promise.all(
      terms.map(async (t) => {
        for (let r = 1; r <= o.rounds; r++) await round(t, r, o, tally).catch(() => tally.failed++);
      }),
    );
    const ms = performance.now() - started;
    const cpu = cpuSpent(cpuBefore, cpuByPart(d));
    const serverCpu = [...cpu.values()].reduce((a, b) => a + b, 0);
    const used = process.cpuUsage(client);
    const after = machineJiffies();
    const notices = terms.reduce((n, t) => n + t.conn.notices.length, 0);
    // Untimed: every terminal catches up, then must hold each record of its subscriber at its last ack.
    for (const t of terms) await download(t, o, []);
    const stale = terms.filter((t) =>
      terms.some(
        (u) => u.subscriber === t.subscriber && u.base.some((seq, j) => t.seen.get(`${u.id}-${j}`) !== seq),
      ),
    ).length;
    const gapFree = [...tally.acked.values()].every((seqs) =>
      [...seqs].sort((a, b) => a - b).every((seq, i) => seq === i + 1),
    );
    const latencies = [...tally.uploadMs, ...tally.downloadMs];
    return {
      records_up: tally.up,
      records_down: tally.down,
      ms: Math.round(ms),
      records_per_s: Math.round((tally.up / ms) * 1000),
      requests: latencies.length,
      p50_ms: round1(median(latencies)),
      p99_ms: round1(percentile(latencies, 99)),
      upload_p99_ms: round1(percentile(tally.uploadMs, 99)),
      download_p99_ms: round1(percentile(tally.downloadMs, 99)),
      connections_per_process: held.join('/'),
      notices,
      // What the server side (brokers, PostgreSQL, Redis, HAProxy) spends per record uploaded.
      server_cpu_us_per_record: Math.round((serverCpu * 1e6) / tally.up),
      ...Object.fromEntries(
        PARTS.map((part) => [`${part}_cpu_pct`, Math.round(((cpu.get(part) ?? 0) * 1e5) / ms)]),
      ),
      client_cpu_pct: Math.round((used.user + used.system) / 10 / ms),
      machine_cpu_pct: Math.round(((after.busy - jiffies.busy) / (after.total - jiffies.total)) * 100),
      failed: tally.failed,
      consistent: gapFree && stale === 0,
    };
  } finally {
    await Promise.all(terms.map((t) => t.conn.end()));
  }
}

const round1 = (n: number) => Number(n.toFixed(1));

interface Shared {
  postgres: TestPostgres;
  redis: TestRedis;
}

async function runOne(brokers: number, shared: Shared, o: Options): Promise<Row> {
  const d =
    brokers === 0
      ? await startEmbedded()
      : await startCluster({ brokers, ...shared, postgresSettings: DURABLE });
  try {
    return await measure(d, o);
  } catch (e) {
    const logs = d.brokers.map((b, i) => `broker ${i}:\n${b.output()}`).join('\n');
    throw new Error(`${deployment(brokers)}, ${brokers} process(es): ${(e as Error).message}\n${logs}`);
  } finally {
    await d.stop();
  }
}

function deployment(brokers: number): string {
  return brokers === 0 ? 'embedded: SQLite' : 'cluster: PG + Redis + HAProxy';
}

/** Median of each measured column over one deployment's runs, and its ratios to the embedded runs. */
function summary(brokers: number, runs: Row[], embedded: Row[]): Row {
  const mine = runs.filter((r) => r.brokers === brokers);
  const med = (key: string) => median(mine.map((r) => Number(r[key])));
  // Interleaved runs pair up: repetition i of this deployment against repetition i of the embedded one.
  const ratio = (key: string) =>
    Number(median(mine.map((r, i) => Number(r[key]) / Number(embedded[i]?.[key]))).toFixed(2));
  return {
    deployment: deployment(brokers),
    processes: Math.max(1, brokers),
    runs: mine.length,
    records_per_s: Math.round(med('records_per_s')),
    p50_ms: round1(med('p50_ms')),
    p99_ms: round1(med('p99_ms')),
    vs_embedded: brokers === 0 ? 1 : ratio('records_per_s'),
    p99_vs_embedded: brokers === 0 ? 1 : ratio('p99_ms'),
    server_cpu_us_per_record: Math.round(med('server_cpu_us_per_record')),
    cpu_vs_embedded: brokers === 0 ? 1 : ratio('server_cpu_us_per_record'),
    connections_per_process: String(mine[0]?.connections_per_process ?? ''),
    notices: Math.round(med('notices')),
    ...Object.fromEntries(PARTS.map((part) => [`${part}_cpu_pct`, Math.round(med(`${part}_cpu_pct`))])),
    machine_cpu_pct: Math.round(med('machine_cpu_pct')),
    failed: mine.reduce((n, r) => n + Number(r.failed), 0),
    consistent: mine.every((r) => r.consistent === true),
  };
}

export async function run(options: ClusterBenchOptions = {}): Promise<BenchResult & { runs: Row[] }> {
  const o: Options = {
    terminals: options.terminals ?? 50,
    perSubscriber: options.perSubscriber ?? 5,
    k: options.k ?? 100,
    bodyBytes: options.bodyBytes ?? 200,
    rounds: options.rounds ?? 4,
    brokers: options.brokers ?? [1, 2, 3],
    repeats: options.repeats ?? 5,
    timeoutMs: options.timeoutMs ?? 30_000,
  };
  const startedAt = new Date().toISOString();
  // The machine is shared: what else ran shows in the load average (1 min) before and after.
  const loadBefore = os.loadavg()[0];
  const [postgres, redis] = await Promise.all([startTestPostgres({ settings: DURABLE }), startRedis()]);
  const runs: Row[] = [];
  try {
    const order = [0, ...o.brokers];
    for (let rep = 0; rep < o.repeats; rep++) {
      // Rotated each repetition, so that no deployment always runs first (or last) on a drifting machine.
      const turn = [...order.slice(rep % order.length), ...order.slice(0, rep % order.length)];
      for (const brokers of turn) {
        const row = await runOne(brokers, { postgres, redis }, o);
        runs.push({ repetition: rep + 1, brokers, deployment: deployment(brokers), ...row });
      }
    }
  } finally {
    await redis.stop();
    await postgres.stop();
  }
  const embedded = runs.filter((r) => r.brokers === 0);
  const rows = [0, ...o.brokers].map((b) => summary(b, runs, embedded));
  const result = {
    bench: 'cluster',
    startedAt,
    machine: machine(),
    parameters: {
      ...o,
      pageBytes: PAGE_BYTES,
      postgres: DURABLE,
      loadAverage: { before: loadBefore, after: os.loadavg()[0] },
    },
    rows,
    runs,
    targets: {
      'no failed requests, every run': rows.every((r) => r.failed === 0),
      'gap-free seqs per subscriber and every terminal caught up, every run': rows.every((r) => r.consistent),
    },
  };
  writeFileSync(path.join('bench', 'results', 'cluster.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export const print = printResult;
