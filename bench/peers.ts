import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AutomergeStrings, deployAutomerge } from './peer-automerge.js';
import { contact, photo, type Rec } from './peer-data.js';
import { deployPouchDB, REPLICATION } from './peer-pouchdb.js';
import { cpuNs, peakRss, resetPeak, settle } from './peer-process.js';
import { deploySimsync } from './peer-simsync.js';
import type { Deploy, Deployment, Kind, PeerClient } from './peer-system.js';
import { type BenchResult, machine, median, printResult, type Row } from './report.js';

/**
 * Issue 20: the same work, in the same run on the same machine, through
 * simsync and through real peers installed from npm, each with its own server
 * process and every byte counted by the same proxy (peer-proxy.ts):
 *
 * - `simsync`: the sync server (broker-process.ts, SQLite file) and Terminal
 *   engines (peer-simsync.ts);
 * - `pouchdb-gzip` / `pouchdb-plain`: express-pouchdb on LevelDB with and
 *   without its default gzip, PouchDB clients on the memory adapter
 *   (peer-pouchdb.ts);
 * - `automerge`: the Automerge Repo WebSocket sync server on the Node
 *   filesystem storage, Repo clients (peer-automerge.ts).
 *
 * Workloads, on one user's data: `upload` of N contacts from the device
 * that holds them; `first sync` of the N to a fresh device; `change k`, k
 * contacts edited on one device, its session, then another device's session
 * bringing them down; `rotation`, R devices syncing in turn, each editing one
 * contact during its session (FIG. 16: SIM in → download → edit → SIM out →
 * upload), the next device's session bringing the earlier edits down; and
 * photos, P large binaries uploaded from one device (`photos up`) and brought
 * down to a fresh one (`photos down`).
 *
 * Runs are interleaved: every repetition runs each system once, the order
 * rotated, each on a fresh server. The table gives medians over repetitions
 * and each system's ratio to simsync's median.
 */
export interface PeersOptions {
  /** N, the contacts of the user. */
  contacts?: number;
  /** The k of the `change` workloads. */
  ks?: number[];
  /** R, the devices of the rotation (at least 2: the two of the other workloads are its first two). */
  rotation?: number;
  /** P, the photos, of `photoBytes` each; and a second, smaller set (0: none). */
  photos?: number;
  smallPhotos?: number;
  /** The most photos Automerge Repo is given (see AUTOMERGE_PHOTOS); more are recorded as not run. */
  automergeMaxPhotos?: number;
  photoBytes?: number;
  /** Repetitions of the contact workloads, and of the photo workloads. */
  runs?: number;
  photoRuns?: number;
  /** Comma-separated subset of the systems (default all). */
  systems?: string;
  /** Automerge's vCards: 'immutable' (ImmutableString, replaced whole) or 'text' (collaborative text). */
  automergeStrings?: AutomergeStrings;
  timeoutMs?: number;
  /** Where the result is also written (committed with the figures); '' = nowhere. */
  json?: string;
  /** Progress lines (default: on stderr). */
  log?: (line: string) => void;
}

export const quick: PeersOptions = {
  contacts: 300,
  ks: [1, 10, 100],
  rotation: 3,
  photos: 4,
  smallPhotos: 0,
  photoBytes: 250_000,
  runs: 1,
  photoRuns: 1,
  json: '',
};

const stderr = (line: string) => process.stderr.write(`${line}\n`);

export const SYSTEMS = ['simsync', 'pouchdb-gzip', 'pouchdb-plain', 'automerge'] as const;

function deployer(system: string, strings: AutomergeStrings): Deploy {
  switch (system) {
    case 'simsync':
      return deploySimsync;
    case 'pouchdb-gzip':
      return deployPouchDB('gzip');
    case 'pouchdb-plain':
      return deployPouchDB('plain');
    case 'automerge':
      return deployAutomerge(strings);
  }
  throw new Error(`unknown system ${system} (${SYSTEMS.join(', ')})`);
}

/** One workload of one system in one repetition. */
export interface Sample {
  system: string;
  workload: string;
  run: number;
  /** Records changed (uploaded once, however many devices bring them down). */
  records: number;
  /** Their body bytes. */
  bodyBytes: number;
  ms: number;
  /** Bytes through the proxy, client → server and server → client. */
  up: number;
  down: number;
  connections: number;
  serverCpuMs: number;
  serverPeakRssMiB: number;
}

type Measured = Omit<Sample, 'system' | 'workload' | 'run' | 'records' | 'bodyBytes'>;

async function measure(d: Deployment, work: () => Promise<void>): Promise<Measured> {
  d.proxy.reset();
  resetPeak(d.pid);
  const cpu = cpuNs(d.pid);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const { up, down, connections } = d.proxy;
  await settle(d.pid);
  return {
    ms,
    up,
    down,
    connections,
    serverCpuMs: (cpuNs(d.pid) - cpu) / 1e6,
    serverPeakRssMiB: peakRss(d.pid) / 2 ** 20,
  };
}

const bytesOf = (records: readonly Rec[]) => records.reduce((sum, r) => sum + r.body.length, 0);

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

async function expectHeld(c: PeerClient, kind: Kind, what: string, records: readonly Rec[]): Promise<void> {
  for (const r of records) {
    if (!same(await c.get(kind, r.id), r.body)) throw new Error(`${what}: ${r.id} is not the version sent`);
  }
}

async function expectCount(c: PeerClient, kind: Kind, what: string, n: number): Promise<void> {
  const held = await c.count(kind);
  if (held !== n) throw new Error(`${what}: ${held} of ${n} ${kind}`);
}

interface Plan extends Required<Omit<PeersOptions, 'systems' | 'json'>> {
  contactRecords: Rec[];
  photoRecords: Rec[];
}

async function contactWorkloads(system: string, deploy: Deploy, p: Plan, run: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const add = (workload: string, records: readonly Rec[], m: Measured) => {
    samples.push({ system, workload, run, records: records.length, bodyBytes: bytesOf(records), ...m });
    p.log(`peers: run ${run + 1} ${system} ${workload}: ${Math.round(m.ms)} ms, ${m.up + m.down} B`);
  };
  const names = ['a', 'b', ...Array.from({ length: Math.max(0, p.rotation - 2) }, (_, i) => `r${i + 3}`)];
  const dir = mkdtempSync(path.join(os.tmpdir(), `simsync-peers-${system}-`));
  const d = await deploy({ dir, clients: names, kinds: ['contacts'], timeoutMs: p.timeoutMs });
  try {
    const n = p.contactRecords.length;
    const a = await d.client('a');
    await a.edit('contacts', p.contactRecords);
    add('upload', p.contactRecords, await measure(d, () => a.session()));

    const b = await d.client('b');
    add('first sync', p.contactRecords, await measure(d, () => b.session()));
    await expectCount(b, 'contacts', `${system} first sync`, n);
    await expectHeld(b, 'contacts', `${system} first sync`, [p.contactRecords[0]!, p.contactRecords.at(-1)!]);

    // Both devices once more, not measured: from here on each has synced both ways, as a device in use has
    // (PouchDB's first pull from a device that has only pushed walks the server's whole changes feed).
    await a.session();
    await b.session();

    for (const [j, k] of p.ks.entries()) {
      const changed = Array.from({ length: Math.min(k, n) }, (_, i) => contact(i, j + 1));
      await a.edit('contacts', changed);
      const m = await measure(d, async () => {
        await a.session();
        await b.session();
      });
      await expectHeld(b, 'contacts', `${system} change k=${k}`, [changed[0]!, changed.at(-1)!]);
      add(`change k=${k}`, changed, m);
    }

    // The other devices of the rotation get the data first, and sync once more (not measured).
    const devices = [a, b];
    for (const name of names.slice(2)) {
      const c = await d.client(name);
      await c.session();
      await expectCount(c, 'contacts', `${system} ${name} first sync`, n);
      await c.session();
      devices.push(c);
    }
    const edits = devices.map((_, t) => contact((t * 37) % n, 1_000 + t));
    const m = await measure(d, async () => {
      for (const [t, c] of devices.entries()) await c.session(() => c.edit('contacts', [edits[t]!]));
    });
    await expectHeld(devices.at(-1)!, 'contacts', `${system} rotation`, edits);
    add(`rotation ${devices.length} devices`, edits, m);
  } finally {
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

async function photoWorkloads(
  system: string,
  deploy: Deploy,
  p: Plan,
  run: number,
  count: number,
): Promise<Sample[]> {
  const photos = p.photoRecords.slice(0, count);
  const label = `${count} × ${p.photoBytes / 1e6} MB`;
  const samples: Sample[] = [];
  const add = (workload: string, m: Measured) => {
    samples.push({ system, workload, run, records: photos.length, bodyBytes: bytesOf(photos), ...m });
    p.log(`peers: photos run ${run + 1} ${system} ${workload}: ${Math.round(m.ms)} ms, ${m.up + m.down} B`);
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), `simsync-peers-${system}-`));
  const d = await deploy({ dir, clients: ['a', 'b'], kinds: ['photos'], timeoutMs: p.timeoutMs });
  try {
    const a = await d.client('a');
    await a.edit('photos', photos);
    add(`photos up ${label}`, await measure(d, () => a.session()));
    const b = await d.client('b');
    add(`photos down ${label}`, await measure(d, () => b.session()));
    await expectCount(b, 'photos', `${system} photos down`, photos.length);
    await expectHeld(b, 'photos', `${system} photos down`, [photos[0]!, photos.at(-1)!]);
  } finally {
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

/**
 * Why Automerge Repo is not given 200 photos of 1 MB: its sync server, handed
 * 200 new 1 MB documents in one session, exits on an unhandled
 * `TimeoutError: withTimeout: timed out after 60000ms` (a DocHandle not ready
 * within its 60 s default) after storing ~15 MB; bench/README.md "peers".
 */
const AUTOMERGE_PHOTOS =
  'not run: with 200 new 1 MB documents in one session the Automerge Repo sync server exits on an unhandled 60 s DocHandle time-out (see bench/README.md); measured with 50';

/** A workload that could not be completed, and why (the run goes on with the others). */
export interface Failure {
  system: string;
  scenario: string;
  run: number;
  error: string;
}

const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, i) => items[(i + by) % items.length] as T);

const round = (v: number, digits = 1) => Number(v.toFixed(digits));

/** The table: per workload and system, medians over the runs and ratios to simsync's medians. */
export function summarise(samples: readonly Sample[]): Row[] {
  const rows: Row[] = [];
  const workloads = [...new Set(samples.map((s) => s.workload))];
  const systems = [...new Set(samples.map((s) => s.system))];
  for (const workload of workloads) {
    const of = (system: string) => samples.filter((s) => s.workload === workload && s.system === system);
    const med = (system: string, f: (s: Sample) => number) => median(of(system).map(f));
    const base = of('simsync').length > 0 ? 'simsync' : undefined;
    for (const system of systems) {
      const runs = of(system);
      if (runs.length === 0) continue;
      const ms = med(system, (s) => s.ms);
      const bytes = med(system, (s) => s.up + s.down);
      const cpu = med(system, (s) => s.serverCpuMs);
      const ratio = (value: number, f: (s: Sample) => number) =>
        base === undefined ? 0 : round(value / Math.max(med(base, f), 1e-9), 2);
      const first = runs[0] as Sample;
      rows.push({
        workload,
        system,
        runs: runs.length,
        records: first.records,
        ms: round(ms),
        x_ms: ratio(ms, (s) => s.ms),
        wire_bytes: Math.round(bytes),
        bytes_per_record: Math.round(bytes / first.records),
        x_bytes: ratio(bytes, (s) => s.up + s.down),
        wire_per_body: round(bytes / first.bodyBytes, 2),
        up_bytes: Math.round(med(system, (s) => s.up)),
        down_bytes: Math.round(med(system, (s) => s.down)),
        server_cpu_ms: round(cpu),
        x_cpu: ratio(cpu, (s) => s.serverCpuMs),
        server_peak_rss_mib: round(med(system, (s) => s.serverPeakRssMiB)),
      });
    }
  }
  return rows;
}

export async function run(options: PeersOptions = {}): Promise<BenchResult> {
  const o = {
    contacts: options.contacts ?? 10_000,
    // `--ks 1,100,1000` on the command line arrives as a string.
    ks: (typeof options.ks === 'string' || typeof options.ks === 'number'
      ? String(options.ks).split(',').map(Number)
      : (options.ks ?? [1, 100, 1_000])) as number[],
    rotation: Math.max(2, options.rotation ?? 10),
    photos: options.photos ?? 200,
    smallPhotos: Math.min(options.smallPhotos ?? 50, options.photos ?? 200),
    automergeMaxPhotos: options.automergeMaxPhotos ?? 50,
    photoBytes: options.photoBytes ?? 1_000_000,
    runs: options.runs ?? 3,
    photoRuns: options.photoRuns ?? 1,
    automergeStrings: options.automergeStrings ?? 'immutable',
    timeoutMs: options.timeoutMs ?? 600_000,
    log: options.log ?? stderr,
  };
  const systems = options.systems === undefined ? [...SYSTEMS] : String(options.systems).split(',');
  const json = options.json ?? path.join('bench', 'results', 'peers.json');
  const plan: Plan = {
    ...o,
    contactRecords: Array.from({ length: o.contacts }, (_, i) => contact(i)),
    photoRecords: Array.from({ length: Math.max(o.photos, o.smallPhotos) }, (_, i) => photo(i, o.photoBytes)),
  };
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg()[0];
  const started = performance.now();
  const samples: Sample[] = [];
  const failures: Failure[] = [];
  const attempt = async (system: string, scenario: string, run: number, work: () => Promise<Sample[]>) => {
    try {
      samples.push(...(await work()));
    } catch (e) {
      const error = (e as Error).message.split('\n')[0] ?? String(e);
      failures.push({ system, scenario, run, error });
      o.log(`peers: ${system} ${scenario} run ${run + 1} FAILED: ${error}`);
    }
  };
  for (let r = 0; r < o.runs; r++) {
    for (const system of rotate(systems, r)) {
      const deploy = deployer(system, o.automergeStrings);
      await attempt(system, 'contacts', r, () => contactWorkloads(system, deploy, plan, r));
    }
  }
  for (const count of [...new Set([o.photos, o.smallPhotos])].filter((c) => c > 0)) {
    for (let r = 0; r < o.photoRuns; r++) {
      for (const system of rotate(systems, r)) {
        if (system === 'automerge' && count > o.automergeMaxPhotos) {
          failures.push({ system, scenario: `photos ${count}`, run: r, error: AUTOMERGE_PHOTOS });
          continue;
        }
        const deploy = deployer(system, o.automergeStrings);
        await attempt(system, `photos ${count}`, r, () => photoWorkloads(system, deploy, plan, r, count));
      }
    }
  }
  const rows = summarise(samples);
  const workloads = [...new Set(samples.map((s) => s.workload))];
  const result: BenchResult & { samples: Sample[]; failures: Failure[] } = {
    bench: 'peers',
    startedAt,
    machine: machine(),
    parameters: {
      ...o,
      log: undefined,
      systems,
      contactBodyBytes: bytesOf(plan.contactRecords),
      contactsData:
        'vCards: 9 in 10 from bench/fixtures.ts vcard(), every 10th a real card of test/fixtures/real-world/vcard (cycled)',
      photosData: 'xorshift32 bytes (incompressible, as JPEG)',
      settings: {
        simsync:
          'sync server (broker-process.ts) on a SQLite file (WAL, synchronous=FULL); Terminal defaults (256 KiB download pages, 1 MiB upload batches, larger bodies in 256 KiB parts, two in flight); shop-registered, FIG. 10-B policy; SimNvStore',
        pouchdb: `express-pouchdb 4 (mode minimumForPouchDB) over PouchDB 9 on LevelDB; gzip: its compression middleware (default) on or excluded; clients on pouchdb-adapter-memory; one-shot replicate.from then replicate.to; contacts ${JSON.stringify(REPLICATION.contacts)} (defaults: batch_size 100, batches_limit 10), photos ${JSON.stringify(REPLICATION.photos)}`,
        automerge: `automerge-repo 2 sync server (WebSocket server adapter, NodeFSStorageAdapter, sharePolicy false); clients: Repo on in-memory storage, WebSocketClientAdapter per session; contacts one document (map of ${o.automergeStrings === 'text' ? 'collaborative text' : 'ImmutableString'}), photos one document each plus an index document`,
      },
      byteCounter:
        'TCP payload bytes through one counting proxy in the bench process (peer-proxy.ts), both ways',
      serverCpu:
        'sum of /proc/<pid>/task/*/schedstat over the workload, until the server is quiet (< 3% for 200 ms)',
      serverPeakRss: 'VmHWM of the server process, reset (clear_refs 5) before each workload',
      loadAverage: { before: loadBefore, after: os.loadavg()[0] },
      wallSeconds: Math.round((performance.now() - started) / 1000),
    },
    rows,
    samples,
    failures,
    targets: {
      'every system ran every workload': systems.every((s) =>
        workloads.every((w) => rows.some((r) => r.system === s && r.workload === w)),
      ),
    },
  };
  if (json !== '') writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

export function print(result: BenchResult): void {
  printResult(result);
  for (const f of (result as { failures?: Failure[] }).failures ?? [])
    console.log(`FAILED  ${f.system} ${f.scenario} (run ${f.run + 1}): ${f.error}`);
  console.log(
    `medians of ${result.parameters.runs} interleaved runs (photos: ${result.parameters.photoRuns}); x_ = ratio to simsync's median; ${result.parameters.wallSeconds} s`,
  );
}
