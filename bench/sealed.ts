import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordStore, SEAL_KEY, SealedNvStore } from '../core/index.js';
import type { NvStore } from '../hal/index.js';
import { FileNvStore, SystemClock } from '../hal-linux/index.js';
import { SimNvStore } from '../hal-sim/index.js';
import { vcard } from './fixtures.js';
import { type BenchResult, machine, median, printResult, type Row } from './report.js';

/**
 * Issue 19, "cost per edit and per sync against the unsealed store, same
 * run": the terminal's own work on a record's life, with the store plain and
 * with it sealed (AES-256-GCM through Web Crypto per personal value,
 * core/store/sealed-nv-store.ts), on hal-linux's FileNvStore (fdatasync per
 * commit) and hal-sim's SimNvStore (memory: the crypto alone shows).
 * Workloads, per record:
 * - edit: RecordStore.put (one commit);
 * - edit + sync ack: the edit, the batch in flight and its settlement (what an upload adds);
 * - download apply: a page of `page` server changes applied in one commit;
 * - read: RecordStore.list of the category (what `ls` and an upload read).
 * Plain and sealed run interleaved, `rounds` times each; the figures are medians.
 */
export interface SealedOptions {
  records?: number;
  rounds?: number;
  page?: number;
}

export const quick: SealedOptions = { records: 100, rounds: 3, page: 50 };

type Workload = 'edit' | 'edit + sync ack' | 'download apply' | 'read';
const WORKLOADS: Workload[] = ['edit', 'edit + sync ack', 'download apply', 'read'];
type Backend = 'FileNvStore' | 'SimNvStore';

async function open(
  backend: Backend,
  dir: string,
  sealed: boolean,
): Promise<{ nv: NvStore; close: () => Promise<void> }> {
  const base = backend === 'FileNvStore' ? await FileNvStore.open(dir) : new SimNvStore();
  const close = async () => {
    if (base instanceof FileNvStore) await base.close();
  };
  if (!sealed) return { nv: base, close };
  const store = await SealedNvStore.over(base);
  const key = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  await store.seal(key, [{ op: 'put', key: SEAL_KEY, value: new Uint8Array(1) }]);
  return { nv: store, close };
}

/** ms per record for one workload on a fresh store. */
async function once(
  backend: Backend,
  dir: string,
  sealed: boolean,
  workload: Workload,
  o: Required<SealedOptions>,
) {
  const { nv, close } = await open(backend, dir, sealed);
  const records = new RecordStore(nv, new SystemClock());
  try {
    if (workload === 'read' || workload === 'download apply') {
      for (let i = 0; i < o.records; i++) await records.put('contacts', `c${i}`, vcard(i));
    }
    const started = performance.now();
    if (workload === 'edit') {
      for (let i = 0; i < o.records; i++) await records.put('contacts', `e${i}`, vcard(i));
    } else if (workload === 'edit + sync ack') {
      for (let i = 0; i < o.records; i++) {
        const edited = await records.put('contacts', `e${i}`, vcard(i));
        const batch = await records.beginBatch([edited]);
        await records.settleBatch(batch, [{ kind: 'applied', seq: i + 1 }], i + 1);
      }
    } else if (workload === 'download apply') {
      for (let from = 0; from < o.records; from += o.page) {
        const changes = [];
        for (let i = from; i < Math.min(o.records, from + o.page); i++) {
          changes.push({
            category: 'contacts' as const,
            id: `d${i}`,
            seq: i + 1,
            editedAt: i,
            body: vcard(i + 7),
          });
        }
        await records.applyDownload(changes, from + changes.length);
      }
    } else {
      const listed = await records.list('contacts');
      if (listed.length !== o.records) throw new Error(`read ${listed.length} of ${o.records}`);
    }
    return (performance.now() - started) / o.records;
  } finally {
    await close();
  }
}

export async function run(options: SealedOptions = {}): Promise<BenchResult> {
  const o: Required<SealedOptions> = {
    records: options.records ?? 1_000,
    rounds: options.rounds ?? 5,
    page: options.page ?? 200,
  };
  const root = mkdtempSync(path.join(os.tmpdir(), 'simsync-sealed-'));
  const rows: Row[] = [];
  let n = 0;
  try {
    for (const backend of ['SimNvStore', 'FileNvStore'] as const) {
      for (const workload of WORKLOADS) {
        const plain: number[] = [];
        const sealed: number[] = [];
        for (let r = 0; r < o.rounds; r++) {
          // Interleaved, so drift on a shared machine falls on both alike.
          plain.push(await once(backend, path.join(root, `s${n++}`), false, workload, o));
          sealed.push(await once(backend, path.join(root, `s${n++}`), true, workload, o));
        }
        const p = median(plain);
        const s = median(sealed);
        rows.push({
          store: backend,
          workload,
          records: o.records,
          plain_us_per_record: Math.round(p * 1000),
          sealed_us_per_record: Math.round(s * 1000),
          sealed_vs_plain: Number((s / p).toFixed(2)),
          extra_us_per_record: Math.round((s - p) * 1000),
        });
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const ratio = (store: string, w: Workload) =>
    Number(rows.find((r) => r.store === store && r.workload === w)?.sealed_vs_plain);
  return {
    bench: 'sealed',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: o,
    rows,
    targets: {
      // On the disk a record's fdatasync dwarfs its AES-GCM: sealing should cost little there.
      'sealed edit on FileNvStore <= 1.5x plain': ratio('FileNvStore', 'edit') <= 1.5,
      'sealed edit + sync ack on FileNvStore <= 1.5x plain': ratio('FileNvStore', 'edit + sync ack') <= 1.5,
    },
  };
}

export const print = printResult;
