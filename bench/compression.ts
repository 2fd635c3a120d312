import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_BATCH_BYTES } from '../core/index.js';
import { encodeRequest, unwrap, type WireChange, wrap } from '../core/protocol/index.js';
import { vcard } from './fixtures.js';
import { type BenchResult, machine, median, printResult, type Row } from './report.js';

/**
 * Issue 20: what deflate (core/protocol/envelope.ts) takes off a batch, and
 * what it costs per record, measured on real vCards rather than only on the
 * templated ones (which compress unusually well). Three address books:
 * - templated: bench/fixtures.ts `vcard(i)` (10 given × 8 family names);
 * - real: every contact of the real-world corpus (test/fixtures/real-world/vcard,
 *   from other projects' test suites; SOURCES.md), each once;
 * - real, varied: those contacts cycled to `records`, each copy with its own
 *   random name, phone digits, mail local part and UID, so no two share them.
 * Each is cut into upload batches of `batchBytes` of bodies, as the engine
 * does; per batch: the CBOR, the payload, and deflate / inflate time
 * (medians of `rounds`).
 */
export interface CompressionOptions {
  records?: number;
  batchBytes?: number;
  rounds?: number;
}

export const quick: CompressionOptions = { records: 500, rounds: 2 };

const CORPUS = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'real-world', 'vcard');

/** The corpus's contacts, one vCard each (files may hold several). */
export function corpusContacts(): string[] {
  const out: string[] = [];
  for (const file of readdirSync(CORPUS)
    .filter((f) => f.endsWith('.vcf'))
    .sort()) {
    const text = readFileSync(path.join(CORPUS, file), 'latin1');
    for (const m of text.matchAll(/BEGIN:VCARD[\s\S]*?END:VCARD\r?\n?/gi)) out.push(m[0]);
  }
  return out;
}

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function word(next: () => number, min: number, max: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const n = min + Math.floor(next() * (max - min + 1));
  let w = '';
  for (let i = 0; i < n; i++) w += letters[Math.floor(next() * 26)];
  return w[0]!.toUpperCase() + w.slice(1);
}

/** A real contact with its personal fields made its own: names, digits, mail, UID. */
function varied(card: string, i: number): string {
  const next = prng(i * 7919 + 13);
  const given = word(next, 3, 9);
  const family = word(next, 4, 11);
  return card
    .replace(/^N:[^\r\n]*/m, `N:${family};${given};;;`)
    .replace(/^FN:[^\r\n]*/m, `FN:${given} ${family}`)
    .replace(/\d/g, () => String(Math.floor(next() * 10)))
    .replace(
      /[\w.+-]+@/g,
      () => `${given.toLowerCase()}.${family.toLowerCase()}${Math.floor(next() * 1000)}@`,
    )
    .replace(
      /^UID:[^\r\n]*/m,
      `UID:urn:uuid:${Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16)).join('')}`,
    );
}

function books(records: number): Record<string, Uint8Array[]> {
  const enc = new TextEncoder();
  const real = corpusContacts();
  return {
    templated: Array.from({ length: records }, (_, i) => vcard(i)),
    real: real.map((c) => enc.encode(c)),
    'real, varied': Array.from({ length: records }, (_, i) => enc.encode(varied(real[i % real.length]!, i))),
  };
}

function batches(bodies: Uint8Array[], batchBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let changes: WireChange[] = [];
  let bytes = 0;
  const flush = () => {
    if (changes.length === 0) return;
    out.push(
      encodeRequest({
        type: 'upload',
        req: 1,
        subscriber: '001010000000102',
        batch: out.length + 1,
        changes,
      }),
    );
    changes = [];
    bytes = 0;
  };
  bodies.forEach((body, i) => {
    changes.push([0, `c${i}`, 0, 1_764_633_600_000 + i, body]);
    bytes += body.length;
    if (bytes >= batchBytes) flush();
  });
  flush();
  return out;
}

export async function run(options: CompressionOptions = {}): Promise<BenchResult> {
  const o: Required<CompressionOptions> = {
    records: options.records ?? 10_000,
    batchBytes: options.batchBytes ?? DEFAULT_BATCH_BYTES,
    rounds: options.rounds ?? 5,
  };
  const rows: Row[] = [];
  for (const [book, bodies] of Object.entries(books(o.records))) {
    const cbors = batches(bodies, o.batchBytes);
    const bodyBytes = bodies.reduce((n, b) => n + b.length, 0);
    const cborBytes = cbors.reduce((n, b) => n + b.length, 0);
    let wireBytes = 0;
    const deflateMs: number[] = [];
    const inflateMs: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      let wire = 0;
      const t0 = performance.now();
      const payloads = [];
      for (const cbor of cbors) payloads.push(await wrap(cbor, { compress: true, envelope: true }));
      const t1 = performance.now();
      for (const p of payloads) {
        wire += p.length;
        await unwrap(p, 64 * 1024 * 1024);
      }
      const t2 = performance.now();
      deflateMs.push(t1 - t0);
      inflateMs.push(t2 - t1);
      wireBytes = wire;
    }
    rows.push({
      book,
      records: bodies.length,
      batches: cbors.length,
      body_bytes: bodyBytes,
      cbor_bytes: cborBytes,
      wire_bytes: wireBytes,
      wire_vs_cbor: Number((wireBytes / cborBytes).toFixed(3)),
      wire_bytes_per_record: Math.round(wireBytes / bodies.length),
      deflate_us_per_record: Number(((median(deflateMs) * 1000) / bodies.length).toFixed(1)),
      inflate_us_per_record: Number(((median(inflateMs) * 1000) / bodies.length).toFixed(1)),
    });
  }
  const ratio = (book: string) => Number(rows.find((r) => r.book === book)?.wire_vs_cbor);
  return {
    bench: 'compression',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: o,
    rows,
    targets: {
      // The varied book is a lower bound (random letters compress worse than names do): reported, not a target.
      'real vCards: the wire carries at most half the CBOR': ratio('real') <= 0.5,
    },
  };
}

export const print = printResult;
