/**
 * The child process the NV kill test SIGKILLs (test/crash/nv-kills.ts):
 * commits numbered batches to a FileNvStore forever and prints `ack N` once
 * batch N's commit has resolved. Bundled by the test into one file, so a
 * restart costs a Node start and nothing more.
 *
 * Batch N puts `counter`, `a`, `b` and `c` (each holding batchValue(N),
 * whose size varies with N, up to ~6 KiB) and `batch/N`, and deletes
 * `batch/(N - KEEP)`: a reader can tell a whole batch from part of one.
 * Usage: node nv-kill-writer.mjs DIR COMPACT_MIN_BYTES
 */
// The store's own module, not hal-linux/index.ts: the bundle then holds no link code (ws).
import { FileNvStore } from '../../hal-linux/file-nv-store.js';

export const KEEP = 24;

export function batchKey(n: number): string {
  return `batch/${String(n).padStart(8, '0')}`;
}

/** `N:` then a filler whose length depends on N only (so a reader can recompute it). */
export function batchValue(n: number): Uint8Array {
  const size = ((n * 2654435761) >>> 0) % 6000;
  return new TextEncoder().encode(`${n}:${'x'.repeat(size)}`);
}

export async function writeForever(dir: string, compactMinBytes: number): Promise<never> {
  const store = await FileNvStore.open(dir, { compactMinBytes });
  const counter = await store.get('counter');
  let n = counter === undefined ? 0 : Number.parseInt(new TextDecoder().decode(counter), 10);
  for (;;) {
    n++;
    const value = batchValue(n);
    await store.commit([
      { op: 'put', key: 'counter', value: new TextEncoder().encode(String(n)) },
      { op: 'put', key: 'a', value },
      { op: 'put', key: batchKey(n), value: value.subarray(0, 64) },
      { op: 'put', key: 'b', value },
      { op: 'del', key: batchKey(n - KEEP) },
      { op: 'put', key: 'c', value },
    ]);
    process.stdout.write(`ack ${n}\n`);
  }
}
