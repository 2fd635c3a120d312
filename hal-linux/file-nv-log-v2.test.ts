import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHalError, type NvOp } from '../hal/index.js';
import { crc16, encodeFileHeaderV2, encodeRecordV2, parseRecordV2 } from './file-nv-log-v2.js';
import { replayAnyLog } from './file-nv-replay.js';
import { FileNvStore, LOG_FILE } from './file-nv-store.js';
import {
  encodeFileHeader,
  encodeRecord,
  FILE_HEADER_BYTES,
  fileHeaderVersion,
  type LogRecord,
} from './nv-log-format.js';

const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** A log of format 1 written by FileNvStore before format 2 (commit f67193c): a compaction, then two batches. */
const V1_FIXTURE = path.join(import.meta.dirname, 'fixtures', 'file-nv-v1.bin');
const V1_STATE = {
  'k/ünïcødé': hex(text('✓')),
  'm/clock': hex(text('1')),
  'r/contacts/c1': hex(text('Ann')),
  'r/contacts/c3': hex(new Uint8Array(300).fill(7)),
  's/contacts/c1': '01',
};

function logOf(records: LogRecord[], encode = encodeRecordV2, header = encodeFileHeaderV2()): Uint8Array {
  // A plain Uint8Array: Buffer#slice would share memory instead of copying.
  return new Uint8Array(Buffer.concat([header, ...records.map(encode)]));
}

const batches = (n: number): LogRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'batch',
    seq: i + 1,
    ops: [
      { op: 'put', key: `k${i % 3}`, value: text(`value ${i}`.repeat(i)) },
      ...(i % 2 ? [{ op: 'del', key: `k${(i + 1) % 3}` } as NvOp] : []),
    ],
  }));

const stateOf = (bytes: Uint8Array) =>
  Object.fromEntries([...replayAnyLog(bytes, 'nv.log').entries].map(([k, v]) => [k, hex(v)]));

describe('NV log format 2', () => {
  it('a record round-trips: puts and dels, empty and 20 kB values, lengths of every varint width, Unicode keys', () => {
    const record: LogRecord = {
      kind: 'batch',
      seq: 2 ** 40 + 3,
      ops: [
        { op: 'put', key: 'r/contacts/c1', value: new Uint8Array(0) },
        { op: 'put', key: 'k/ünïcødé', value: new Uint8Array(127).fill(1) },
        { op: 'put', key: 'x'.repeat(200), value: new Uint8Array(20_000).fill(2) },
        { op: 'del', key: 'm/batch' },
      ],
    };
    const bytes = encodeRecordV2(record);
    expect(parseRecordV2(bytes, 0)).toEqual({ ok: true, record, end: bytes.length });
  });

  it('frames a commit in 7 bytes plus 2 per op (a 15-byte key and a 200-byte value: 15 + 200 + 13)', () => {
    const put: NvOp = { op: 'put', key: 'r/contacts/c42', value: new Uint8Array(200) };
    // check 2, length 2, kind 1, seq 3, count 1, key head 1, value length 2, CRC-32 4.
    expect(encodeRecordV2({ kind: 'batch', seq: 20_000, ops: [put] }).length).toBe(14 + 200 + 16);
  });

  it("every single bit flipped, in every record and the file header, is 'store-corrupt' at that record's start", () => {
    const records = batches(6);
    const log = logOf(records);
    const starts = [0, FILE_HEADER_BYTES];
    for (const r of records) starts.push((starts.at(-1) as number) + encodeRecordV2(r).length);
    for (let at = 0; at < log.length; at++) {
      const recordStart = starts.filter((s) => s <= at).at(-1) as number;
      for (let bit = 0; bit < 8; bit++) {
        const damaged = log.slice();
        damaged[at] = (damaged[at] as number) ^ (1 << bit);
        let error: unknown;
        try {
          replayAnyLog(damaged, 'nv.log');
        } catch (e) {
          error = e;
        }
        expect(isHalError(error, 'store-corrupt'), `flip of bit ${bit} at ${at}`).toBe(true);
        expect(error, `flip of bit ${bit} at ${at}`).toMatchObject({ file: 'nv.log', offset: recordStart });
      }
    }
  });

  it('a log cut at any length replays as the whole records before the cut', () => {
    const records = batches(6);
    const log = logOf(records);
    let end = FILE_HEADER_BYTES;
    for (let whole = 0; whole <= records.length; whole++) {
      const next =
        whole < records.length ? end + encodeRecordV2(records[whole] as LogRecord).length : end + 1;
      const expected = stateOf(logOf(records.slice(0, whole)));
      for (let cut = end; cut < Math.min(next, log.length + 1); cut++) {
        const replayed = replayAnyLog(log.subarray(0, cut), 'nv.log');
        expect(replayed.validBytes, `cut at ${cut}`).toBe(end);
        expect(stateOf(log.subarray(0, cut)), `cut at ${cut}`).toEqual(expected);
      }
      end = next;
    }
  });

  it('a length spelled in more bytes than it needs is damage, not a second way to write a record', () => {
    const record = encodeRecordV2({ kind: 'batch', seq: 1, ops: [] });
    expect(hex(record.subarray(2, 6))).toBe('03010100');
    // The payload length 3 spelled 0x83 0x00, both checksums made to match.
    const checked = Uint8Array.of(0x83, 0x00, 1, 1, 0);
    const forged = new Uint8Array(2 + checked.length + 4);
    forged.set(checked, 2);
    new DataView(forged.buffer).setUint32(2 + checked.length, crc32(checked), true);
    new DataView(forged.buffer).setUint16(0, crc16(forged.subarray(2, 8)), true);
    expect(parseRecordV2(forged, 0)).toEqual({ ok: false, fault: 'header' });
  });
});

describe('FileNvStore opens a store of format 1 and moves it to format 2', () => {
  let dir: string;
  const log = () => path.join(dir, LOG_FILE);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'simsync-nv-v1-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function contents(): Promise<Record<string, string>> {
    const store = await FileNvStore.open(dir);
    try {
      return Object.fromEntries((await store.scan('')).map((e) => [e.key, hex(e.value)]));
    } finally {
      await store.close();
    }
  }

  it('a log the previous FileNvStore wrote (a compaction, then batches) opens with its state, rewritten in format 2', async () => {
    await copyFile(V1_FIXTURE, log());
    const v1 = await readFile(log());
    expect(fileHeaderVersion(v1)).toBe(1);
    const store = await FileNvStore.open(dir);
    expect(Object.fromEntries((await store.scan('')).map((e) => [e.key, hex(e.value)]))).toEqual(V1_STATE);
    expect(store.stats().compactions).toBe(1);
    await store.commit([{ op: 'put', key: 'after', value: text('migration') }]);
    await store.close();
    const v2 = await readFile(log());
    expect(fileHeaderVersion(v2)).toBe(2);
    expect(v2.length).toBeLessThan(v1.length);
    expect(await contents()).toEqual({ ...V1_STATE, after: hex(text('migration')) });
  });

  it('the sequence numbers go on from the format 1 log', async () => {
    await copyFile(V1_FIXTURE, log());
    const seq = replayAnyLog(new Uint8Array(await readFile(log())), log()).seq;
    const store = await FileNvStore.open(dir);
    await store.commit([{ op: 'put', key: 'after', value: text('1') }]);
    await store.close();
    expect(replayAnyLog(new Uint8Array(await readFile(log())), log()).seq).toBe(seq + 1);
  });

  it('a format 1 log with a torn final append opens as the state before it', async () => {
    const records = batches(4);
    const whole = logOf(records.slice(0, 3), encodeRecord, encodeFileHeader());
    const full = logOf(records, encodeRecord, encodeFileHeader());
    await writeFile(log(), full.subarray(0, full.length - 5));
    const store = await FileNvStore.open(dir);
    expect(store.stats().tornBytesDiscarded).toBe(full.length - 5 - whole.length);
    await store.close();
    expect(await contents()).toEqual(stateOf(whole));
    expect(fileHeaderVersion(await readFile(log()))).toBe(2);
  });

  it("a format 1 log with a flipped bit is 'store-corrupt' at the damaged record, and left as it was", async () => {
    const bytes = new Uint8Array(await readFile(V1_FIXTURE));
    const first = FILE_HEADER_BYTES;
    bytes[first + 20] = (bytes[first + 20] as number) ^ 0x04;
    await writeFile(log(), bytes);
    const error = await FileNvStore.open(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'store-corrupt', file: log(), offset: first });
    expect(hex(await readFile(log()))).toBe(hex(bytes));
  });

  it('a crash mid-migration (the format 2 rewrite half-written, not yet renamed) opens the format 1 log and migrates again', async () => {
    await copyFile(V1_FIXTURE, log());
    const v2 = logOf([{ kind: 'snapshot-end', seq: 5, ops: [{ op: 'put', key: 'half', value: text('x') }] }]);
    await writeFile(path.join(dir, 'nv.log.compact'), v2.subarray(0, v2.length - 3));
    expect(await contents()).toEqual(V1_STATE);
    expect(fileHeaderVersion(await readFile(log()))).toBe(2);
    expect(await contents()).toEqual(V1_STATE);
  });
});
