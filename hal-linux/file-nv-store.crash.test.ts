import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileNvStore } from './file-nv-store.js';
import { batchKey, batchValue, KEEP } from './fixtures/nv-writer.js';

const WRITER = fileURLToPath(new URL('./fixtures/nv-writer.ts', import.meta.url));
const ROUNDS = 8;

interface Writer {
  child: ChildProcess;
  acked: () => number;
  exited: Promise<void>;
}

/** Starts the writer child (tsx loader, Node >= 20.6: `node --import tsx`). */
function startWriter(dir: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, '4096'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let acked = 0;
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = /^ack (\d+)$/.exec(line);
      if (match) acked = Number(match[1]);
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited on its own: ${stderr}`)),
    );
  });
  return { child, acked: () => acked, exited };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: 15_000, interval: 1 },
  );
}

const decode = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

/** Asserts the store holds exactly batches 1..n for some n >= `acked`; returns n. */
async function checkWholeBatches(store: FileNvStore, acked: number): Promise<number> {
  const counter = decode(await store.get('counter'));
  const n = counter === undefined ? 0 : Number.parseInt(counter, 10);
  expect(n).toBeGreaterThanOrEqual(acked);
  const expected = decode(batchValue(n));
  for (const key of ['a', 'b', 'c']) expect(decode(await store.get(key)), key).toBe(expected);
  const kept = (await store.scan('batch/')).map((e) => e.key);
  const from = Math.max(1, n - KEEP + 1);
  expect(kept).toEqual(Array.from({ length: n - from + 1 }, (_, i) => batchKey(from + i)));
  return n;
}

describe('FileNvStore under SIGKILL', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'simsync-nv-kill-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a writer killed at random moments loses no acknowledged batch and never leaves part of one', async () => {
    let previous = 0;
    let logBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const writer = startWriter(dir);
      const target = 1 + Math.floor(Math.random() * 120);
      await until(() => writer.acked() >= target || writer.child.exitCode !== null, 'acks');
      // A random sub-millisecond-to-few-ms pause, so the kill lands anywhere in a commit.
      const spin = Date.now() + Math.random() * 3;
      while (Date.now() < spin);
      writer.child.kill('SIGKILL');
      await writer.exited;
      const store = await FileNvStore.open(dir);
      try {
        const n = await checkWholeBatches(store, writer.acked());
        expect(n).toBeGreaterThanOrEqual(previous);
        previous = n;
        logBytes = store.stats().logBytes;
      } finally {
        await store.close();
      }
    }
    expect(previous).toBeGreaterThan(ROUNDS);
    // The writer compacts from 4 KiB on (at 3x the ~8 KiB live data), so kills also landed in or
    // around compactions: the log stays bounded however many batches (~1 KiB each) were written.
    expect(logBytes).toBeLessThan(64 * 1024);
  });
});
