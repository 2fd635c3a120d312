import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RecordStore } from '../core/index.js';
import type { NvStore } from '../hal/index.js';
import { FileNvStore, SystemClock } from '../hal-linux/index.js';
import { SimNvStore } from '../hal-sim/index.js';
import { body } from './fixtures.js';
import { type BenchResult, machine, printResult, type Row } from './report.js';

/**
 * Issue 8 §5: commits per second and bytes written per record change, for
 * hal-linux's FileNvStore (append-only log, fdatasync per commit) and
 * hal-sim's SimNvStore (its wear counters), with baselines in the same run:
 * a plain append + fdatasync of the same body bytes to a file, and a plain
 * Map.set of a copy of them. Write amplification = bytes the store wrote /
 * body bytes changed. Three workloads on a store holding `records` records:
 * - nv put: one put of the record's key and body (the NvStore alone);
 * - record edit: RecordStore.put, the commit a local edit makes;
 * - edit + sync ack: the edit, then the batch record and its settlement,
 *   the commits a one-record sync adds (a change's whole life on the terminal).
 */
export interface NvOptions {
  records?: number;
  changes?: number;
  bodyBytes?: number;
}

export const quick: NvOptions = { records: 200, changes: 200 };

type Workload = 'nv put' | 'record edit' | 'edit + sync ack';
const WORKLOADS: Workload[] = ['nv put', 'record edit', 'edit + sync ack'];

interface Measured {
  ms: number;
  commits: number;
  written: number;
}

interface Subject {
  nv: NvStore;
  stats: () => { commits: number; bytesWritten: number };
  close: () => Promise<void>;
}

async function change(
  workload: Workload,
  nv: NvStore,
  records: RecordStore,
  id: string,
  bytes: Uint8Array,
  seq: number,
) {
  if (workload === 'nv put') return nv.commit([{ op: 'put', key: `r/contacts/${id}`, value: bytes }]);
  const edited = await records.put('contacts', id, bytes);
  if (workload === 'record edit') return;
  const batch = await records.beginBatch([edited]);
  await records.settleBatch(batch, [{ kind: 'applied', seq }], seq);
}

async function measure(subject: Subject, workload: Workload, o: Required<NvOptions>): Promise<Measured> {
  const records = new RecordStore(subject.nv, new SystemClock());
  // The store holds `records` records before the clock starts.
  for (let i = 0; i < o.records; i++)
    await change(workload, subject.nv, records, `c${i}`, body(i, o.bodyBytes), i + 1);
  const before = subject.stats();
  const started = performance.now();
  for (let i = 0; i < o.changes; i++) {
    const id = `c${i % o.records}`;
    await change(workload, subject.nv, records, id, body(o.records + i, o.bodyBytes), o.records + i + 1);
  }
  const ms = performance.now() - started;
  const after = subject.stats();
  return { ms, commits: after.commits - before.commits, written: after.bytesWritten - before.bytesWritten };
}

async function fileSubject(dir: string): Promise<Subject> {
  const store = await FileNvStore.open(dir);
  return { nv: store, stats: () => store.stats(), close: () => store.close() };
}

function simSubject(): Subject {
  const store = new SimNvStore();
  return { nv: store, stats: () => store.stats(), close: async () => {} };
}

/** The file baseline: the same body bytes appended and fdatasync'ed, one change at a time. */
async function appendBaseline(file: string, o: Required<NvOptions>): Promise<number> {
  const handle = await open(file, 'a');
  try {
    const started = performance.now();
    for (let i = 0; i < o.changes; i++) {
      await handle.write(body(o.records + i, o.bodyBytes));
      await handle.datasync();
    }
    return performance.now() - started;
  } finally {
    await handle.close();
  }
}

/** The memory baseline: a copy of the same body bytes set in a Map, one change at a time. */
async function mapBaseline(o: Required<NvOptions>): Promise<number> {
  const map = new Map<string, Uint8Array>();
  const started = performance.now();
  for (let i = 0; i < o.changes; i++) {
    map.set(`r/contacts/c${i % o.records}`, body(o.records + i, o.bodyBytes).slice());
    await Promise.resolve();
  }
  return performance.now() - started;
}

function row(store: string, workload: string, m: Measured, o: Required<NvOptions>, baselineMs: number): Row {
  return {
    store,
    workload,
    changes: o.changes,
    commits_per_change: Number((m.commits / o.changes).toFixed(1)),
    commits_per_s: Math.round((m.commits / m.ms) * 1000),
    changes_per_s: Math.round((o.changes / m.ms) * 1000),
    bytes_written_per_change: Math.round(m.written / o.changes),
    write_amplification: Number((m.written / (o.changes * o.bodyBytes)).toFixed(2)),
    vs_baseline: Number((baselineMs / m.ms).toFixed(2)),
  };
}

export async function run(options: NvOptions = {}): Promise<BenchResult> {
  const o: Required<NvOptions> = {
    records: options.records ?? 1_000,
    changes: options.changes ?? 3_000,
    bodyBytes: options.bodyBytes ?? 200,
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-nv-'));
  const rows: Row[] = [];
  const flat = (changes: number) => ({ commits: changes, written: changes * o.bodyBytes });
  try {
    // The disk is shared and drifts: the baseline is the mean of one run before the stores and one after.
    const appendBefore = await appendBaseline(path.join(dir, 'baseline-1.bin'), o);
    const file: [Workload, Measured][] = [];
    for (const [i, workload] of WORKLOADS.entries()) {
      const subject = await fileSubject(path.join(dir, `store-${i}`));
      try {
        file.push([workload, await measure(subject, workload, o)]);
      } finally {
        await subject.close();
      }
    }
    const appendMs = (appendBefore + (await appendBaseline(path.join(dir, 'baseline-2.bin'), o))) / 2;
    rows.push(row('append+fdatasync', 'baseline', { ms: appendMs, ...flat(o.changes) }, o, appendMs));
    for (const [workload, m] of file) rows.push(row('FileNvStore', workload, m, o, appendMs));
    const mapMs = await mapBaseline(o);
    rows.push(row('Map.set', 'baseline', { ms: mapMs, ...flat(o.changes) }, o, mapMs));
    for (const workload of WORKLOADS)
      rows.push(row('SimNvStore', workload, await measure(simSubject(), workload, o), o, mapMs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const amp = (store: string, workload: Workload) =>
    Number(rows.find((r) => r.store === store && r.workload === workload)?.write_amplification);
  return {
    bench: 'nv-store',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: { ...o, dir: os.tmpdir() },
    rows,
    targets: Object.fromEntries(
      ['FileNvStore', 'SimNvStore'].flatMap((store) =>
        WORKLOADS.map((w) => [`write amplification <= 3x (${store}, ${w})`, amp(store, w) <= 3]),
      ),
    ),
  };
}

export const print = printResult;
