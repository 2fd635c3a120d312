import { crc32 } from 'node:zlib';
import type { NvOp } from '../hal/index.js';

/**
 * The on-disk format of FileNvStore's log (see README.md "NV log format").
 * All integers little-endian.
 *
 * File header (16 bytes): magic "SSNVLOG1", u32 format version (1), u32
 * CRC-32 of the preceding 12 bytes.
 *
 * Record (16-byte header + payload): u32 RECORD_MAGIC, u32 payload length,
 * u32 CRC-32 of the payload, u32 CRC-32 of the preceding 12 header bytes.
 *
 * Payload: u8 kind, u64 sequence number, u32 op count, then per op: u8 op
 * (1 put, 2 del), u32 key length, UTF-8 key, and for a put u32 value length
 * and the value.
 */
export const FILE_MAGIC = new TextEncoder().encode('SSNVLOG1');
export const FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = 16;
export const RECORD_MAGIC = 0x4352_564e; // "NVRC" read as little-endian bytes
export const RECORD_HEADER_BYTES = 16;
/** No payload is larger: a length beyond it is damage, not data. */
export const MAX_PAYLOAD_BYTES = 1 << 30;

export type RecordKind = 'batch' | 'snapshot' | 'snapshot-end';
const KIND_CODES: Record<RecordKind, number> = { batch: 1, snapshot: 2, 'snapshot-end': 3 };
const KINDS: Record<number, RecordKind> = { 1: 'batch', 2: 'snapshot', 3: 'snapshot-end' };

export interface LogRecord {
  kind: RecordKind;
  /** Batch records count up by one; snapshot records carry the sequence of the state they hold. */
  seq: number;
  ops: NvOp[];
}

/** Why bytes at an offset are not a record. */
export type RecordFault = 'short' | 'header' | 'beyond-end' | 'payload' | 'structure';

export type ParseResult = { ok: true; record: LogRecord; end: number } | { ok: false; fault: RecordFault };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The 16-byte file header: magic, the format version, CRC-32 of the two. */
export function encodeFileHeader(version: number = FORMAT_VERSION): Uint8Array {
  const out = new Uint8Array(FILE_HEADER_BYTES);
  const view = new DataView(out.buffer);
  out.set(FILE_MAGIC, 0);
  view.setUint32(8, version, true);
  view.setUint32(12, crc32(out.subarray(0, 12)), true);
  return out;
}

/** The format version of a log whose file header is intact, undefined when it is not one. */
export function fileHeaderVersion(bytes: Uint8Array): number | undefined {
  if (bytes.length < FILE_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  if (view.getUint32(12, true) !== crc32(bytes.subarray(0, 12))) return undefined;
  if (!FILE_MAGIC.every((b, i) => bytes[i] === b)) return undefined;
  return view.getUint32(8, true);
}

export function fileHeaderValid(bytes: Uint8Array): boolean {
  return fileHeaderVersion(bytes) === FORMAT_VERSION;
}

/** UTF-8 of `key`; rejects strings that would not survive the round trip (lone surrogates). */
export function encodeKey(key: string): Uint8Array {
  const bytes = encoder.encode(key);
  if (decoder.decode(bytes) !== key) throw new TypeError(`NvStore key is not well-formed Unicode: ${key}`);
  return bytes;
}

export function encodeRecord(record: LogRecord): Uint8Array {
  const keys = record.ops.map((op) => encodeKey(op.key));
  let size = 13;
  record.ops.forEach((op, i) => {
    size += 5 + (keys[i] as Uint8Array).length + (op.op === 'put' ? 4 + op.value.length : 0);
  });
  const out = new Uint8Array(RECORD_HEADER_BYTES + size);
  const view = new DataView(out.buffer);
  let at = RECORD_HEADER_BYTES;
  view.setUint8(at, KIND_CODES[record.kind]);
  view.setBigUint64(at + 1, BigInt(record.seq), true);
  view.setUint32(at + 9, record.ops.length, true);
  at += 13;
  record.ops.forEach((op, i) => {
    const key = keys[i] as Uint8Array;
    view.setUint8(at, op.op === 'put' ? 1 : 2);
    view.setUint32(at + 1, key.length, true);
    out.set(key, at + 5);
    at += 5 + key.length;
    if (op.op === 'put') {
      view.setUint32(at, op.value.length, true);
      out.set(op.value, at + 4);
      at += 4 + op.value.length;
    }
  });
  const payload = out.subarray(RECORD_HEADER_BYTES);
  view.setUint32(0, RECORD_MAGIC, true);
  view.setUint32(4, payload.length, true);
  view.setUint32(8, crc32(payload), true);
  view.setUint32(12, crc32(out.subarray(0, 12)), true);
  return out;
}

/** Reads the record starting at `offset` of `file`, checking both checksums and the payload structure. */
export function parseRecord(file: Uint8Array, offset: number): ParseResult {
  if (file.length - offset < RECORD_HEADER_BYTES) return { ok: false, fault: 'short' };
  const view = new DataView(file.buffer, file.byteOffset + offset, RECORD_HEADER_BYTES);
  const headerOk =
    view.getUint32(0, true) === RECORD_MAGIC &&
    view.getUint32(12, true) === crc32(file.subarray(offset, offset + 12));
  const length = view.getUint32(4, true);
  if (!headerOk || length > MAX_PAYLOAD_BYTES) return { ok: false, fault: 'header' };
  const start = offset + RECORD_HEADER_BYTES;
  const end = start + length;
  if (end > file.length) return { ok: false, fault: 'beyond-end' };
  const payload = file.subarray(start, end);
  if (crc32(payload) !== view.getUint32(8, true)) return { ok: false, fault: 'payload' };
  const record = decodePayload(payload);
  return record ? { ok: true, record, end } : { ok: false, fault: 'structure' };
}

function decodePayload(payload: Uint8Array): LogRecord | undefined {
  if (payload.length < 13) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const kind = KINDS[view.getUint8(0)];
  const seq = view.getBigUint64(1, true);
  if (kind === undefined || seq > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const count = view.getUint32(9, true);
  const ops: NvOp[] = [];
  let at = 13;
  try {
    for (let i = 0; i < count; i++) {
      const code = view.getUint8(at);
      const keyLength = view.getUint32(at + 1, true);
      const key = decoder.decode(sliceExact(payload, at + 5, keyLength));
      at += 5 + keyLength;
      if (code === 2) {
        ops.push({ op: 'del', key });
        continue;
      }
      if (code !== 1) return undefined;
      const valueLength = view.getUint32(at, true);
      ops.push({ op: 'put', key, value: sliceExact(payload, at + 4, valueLength) });
      at += 4 + valueLength;
    }
  } catch {
    // A length running past the payload (RangeError) or invalid UTF-8 (TypeError).
    return undefined;
  }
  return at === payload.length ? { kind, seq: Number(seq), ops } : undefined;
}

function sliceExact(bytes: Uint8Array, start: number, length: number): Uint8Array {
  if (start + length > bytes.length) throw new RangeError('field runs past the payload');
  return Uint8Array.prototype.slice.call(bytes, start, start + length);
}

/**
 * True when a whole, valid record starts anywhere after `offset`. A torn
 * append can only damage the last record, so damage followed by a valid
 * record is corruption, not a torn tail.
 */
export function validRecordAfter(file: Uint8Array, offset: number): boolean {
  const first = RECORD_MAGIC & 0xff;
  for (let at = file.indexOf(first, offset + 1); at !== -1; at = file.indexOf(first, at + 1)) {
    if (parseRecord(file, at).ok) return true;
  }
  return false;
}
