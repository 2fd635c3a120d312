import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { FileNvStore } from '../../hal-linux/index.js';
import { Seeded } from '../fuzz/seeded.js';
import { batchKey, batchValue, KEEP } from './nv-kill-writer.js';

const ENTRY = fileURLToPath(new URL('./nv-kill-writer-main.ts', import.meta.url));
/** Compaction from 16 KiB on: with batches up to ~24 KiB, kills also land in and around compactions. */
const COMPACT_MIN_BYTES = 16 * 1024;

export interface NvKillOptions {
  kills: number;
  seed: number;
  /** Called after each kill (progress). */
  onKill?: (done: number) => void;
}

export interface NvKillResult {
  kills: number;
  seed: number;
  /** The highest batch acknowledged by any writer. */
  batches: number;
  compactions: number;
  /** Acknowledged batches missing after a restart (must be 0). */
  lostAcknowledged: number;
  /** Restarts where the store held something other than a prefix of whole batches (must be 0). */
  partialBatches: number;
  /** Restarts where the store would not open (must be 0). */
  openFailures: number;
  /** What went wrong, one line each, with the seed. */
  problems: string[];
}

let bundled: Promise<{ file: string; dir: string }> | undefined;

/** The writer as one plain JS file: a Node start is ~40 ms, a tsx start ~400 ms. */
function writerBundle(): Promise<{ file: string; dir: string }> {
  bundled ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'simsync-nv-writer-'));
    const file = path.join(dir, 'nv-kill-writer.mjs');
    await esbuild.build({
      entryPoints: [ENTRY],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: file,
      logLevel: 'silent',
    });
    return { file, dir };
  })();
  return bundled;
}

interface Writer {
  acked: () => number;
  exited: () => boolean;
  /** Resolves once the process is gone and its stdout fully read. */
  done: Promise<{ signal: NodeJS.Signals | null; stderr: string }>;
  kill: () => void;
}

function startWriter(file: string, dir: string): Writer {
  const child = spawn(process.execPath, [file, dir, String(COMPACT_MIN_BYTES)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let acked = 0;
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^ack (\d+)$/.exec(line);
      if (match) acked = Number(match[1]);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exited = false;
  const done = new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('close', (_code, signal) => resolve({ signal, stderr }));
  });
  child.on('exit', () => {
    exited = true;
  });
  return { acked: () => acked, exited: () => exited, done, kill: () => child.kill('SIGKILL') };
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return true;
}

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

/** What is wrong with the store if it is not exactly batches 1..n for some n ≥ acked; and n. */
async function check(store: FileNvStore, acked: number): Promise<{ n: number; wrong: string[] }> {
  const counter = text(await store.get('counter'));
  const n = counter === undefined ? 0 : Number.parseInt(counter, 10);
  const wrong: string[] = [];
  const expected = text(batchValue(n));
  for (const key of ['a', 'b', 'c'])
    if (n > 0 && text(await store.get(key)) !== expected) wrong.push(`${key} is not batch ${n}'s`);
  const kept = (await store.scan('batch/')).map((e) => e.key).join(',');
  const from = Math.max(1, n - KEEP + 1);
  const want = Array.from({ length: Math.max(0, n - from + 1) }, (_, i) => batchKey(from + i)).join(',');
  if (kept !== want) wrong.push(`batch keys ${kept} are not batches ${from}..${n}`);
  if (n < acked) wrong.push(`holds ${n} of ${acked} acknowledged batches`);
  return { n, wrong };
}

/**
 * Issue 21 "Real crashes": a writer process committing batches to a
 * FileNvStore is SIGKILLed `kills` times at random moments (after a random
 * number of acknowledged commits, then a random 0–3 ms more); after each
 * kill the store is opened here and must hold exactly a prefix of whole
 * batches, every acknowledged one included.
 */
export async function runNvKills(options: NvKillOptions): Promise<NvKillResult> {
  const random = new Seeded(options.seed);
  const { file } = await writerBundle();
  const dir = await mkdtemp(path.join(tmpdir(), 'simsync-nv-kills-'));
  const result: NvKillResult = {
    kills: 0,
    seed: options.seed,
    batches: 0,
    compactions: 0,
    lostAcknowledged: 0,
    partialBatches: 0,
    openFailures: 0,
    problems: [],
  };
  let previousLogBytes = 0;
  try {
    for (let kill = 0; kill < options.kills; kill++) {
      const writer = startWriter(file, dir);
      const target = result.batches + random.between(0, 20);
      const reached = await until(() => writer.acked() >= target || writer.exited(), 20_000);
      const spin = Date.now() + random.next() * 3;
      while (Date.now() < spin);
      writer.kill();
      const { signal, stderr } = await writer.done;
      if (!reached || signal !== 'SIGKILL') {
        result.problems.push(`kill ${kill} (seed ${options.seed}): writer ended by itself: ${stderr}`);
        result.openFailures++;
        break;
      }
      result.kills++;
      const acked = Math.max(writer.acked(), result.batches);
      let store: FileNvStore;
      try {
        store = await FileNvStore.open(dir);
      } catch (error) {
        result.openFailures++;
        result.problems.push(`kill ${kill} (seed ${options.seed}): open failed: ${String(error)}`);
        break;
      }
      try {
        const { n, wrong } = await check(store, acked);
        if (n < acked) result.lostAcknowledged += acked - n;
        if (wrong.length > 0) {
          result.partialBatches++;
          result.problems.push(`kill ${kill} (seed ${options.seed}): ${wrong.join('; ')}`);
        }
        const { logBytes } = store.stats();
        if (logBytes < previousLogBytes) result.compactions++;
        previousLogBytes = logBytes;
        result.batches = Math.max(acked, n);
      } finally {
        await store.close();
      }
      options.onKill?.(result.kills);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}
