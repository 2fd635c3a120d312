import { crc32 } from 'node:zlib';
import type { NvOp } from '../hal/index.js';
import {
  encodeFileHeader,
  encodeKey,
  type LogRecord,
  MAX_PAYLOAD_BYTES,
  type ParseResult,
  type RecordKind,
} from './nv-log-format.js';

/**
 * Format 2 of FileNvStore's log, the one it writes (README.md "File
 * format"): format 1's file header with version 2, and records framed in
 * 7–8 bytes instead of 29 + 9 per op, lengths and numbers as LEB128 varints.
 *
 * Record: u16 CRC-16 of the 6 bytes after it (the whole length varint and the
 * start of the payload, whatever the varint's width), varint payload length,
 * payload, u32 CRC-32 of the length varint and the payload. The CRC-16 guards
 * the length before it is followed, as format 1's header CRC does: a flipped
 * bit there is damage, never taken for a record running past a torn end.
 *
 * Payload: u8 kind, varint sequence number, varint op count, then per op a
 * varint of (key length × 2 + 1 for a put, + 0 for a del), the UTF-8 key, and
 * for a put a varint value length and the value.
 */
export const FORMAT_VERSION_2 = 2;
/** The CRC-16 and the window it covers: every record is at least 10 bytes. */
const CHECK_BYTES = 2;
const WINDOW_BYTES = 6;
const TRAILER_BYTES = 4;

const KIND_CODES: Record<RecordKind, number> = { batch: 1, snapshot: 2, 'snapshot-end': 3 };
const KINDS: Record<number, RecordKind> = { 1: 'batch', 2: 'snapshot', 3: 'snapshot-end' };
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFileHeaderV2(): Uint8Array {
  return encodeFileHeader(FORMAT_VERSION_2);
}

export function encodeRecordV2(record: LogRecord): Uint8Array {
  const payload = new Writer();
  payload.byte(KIND_CODES[record.kind]);
  payload.varint(record.seq);
  payload.varint(record.ops.length);
  for (const op of record.ops) {
    const key = encodeKey(op.key);
    payload.varint(key.length * 2 + (op.op === 'put' ? 1 : 0));
    payload.bytes(key);
    if (op.op === 'put') {
      payload.varint(op.value.length);
      payload.bytes(op.value);
    }
  }
  const body = payload.finish();
  const length = varintBytes(body.length);
  const out = new Uint8Array(CHECK_BYTES + length.length + body.length + TRAILER_BYTES);
  out.set(length, CHECK_BYTES);
  out.set(body, CHECK_BYTES + length.length);
  const view = new DataView(out.buffer);
  const end = out.length - TRAILER_BYTES;
  view.setUint32(end, crc32(out.subarray(CHECK_BYTES, end)), true);
  view.setUint16(0, crc16(out.subarray(CHECK_BYTES, CHECK_BYTES + WINDOW_BYTES)), true);
  return out;
}

/** Where the record at `offset` ends, when its CRC-16 vouches for its length; undefined otherwise. */
export function recordEndV2(file: Uint8Array, offset: number): number | undefined {
  if (file.length - offset < CHECK_BYTES + WINDOW_BYTES) return undefined;
  const from = offset + CHECK_BYTES;
  if (
    (file[offset] as number) + (file[offset + 1] as number) * 256 !==
    crc16(file, from, from + WINDOW_BYTES)
  )
    return undefined;
  const length = readVarint(file.subarray(from, from + WINDOW_BYTES), 0);
  if (length === undefined || length.value > MAX_PAYLOAD_BYTES) return undefined;
  return offset + CHECK_BYTES + length.end + length.value + TRAILER_BYTES;
}

/** Reads the record starting at `offset` of `file`, checking both checksums and the payload structure. */
export function parseRecordV2(file: Uint8Array, offset: number): ParseResult {
  if (file.length - offset < CHECK_BYTES + WINDOW_BYTES) return { ok: false, fault: 'short' };
  const end = recordEndV2(file, offset);
  if (end === undefined) return { ok: false, fault: 'header' };
  if (end > file.length) return { ok: false, fault: 'beyond-end' };
  const view = new DataView(file.buffer, file.byteOffset + end - TRAILER_BYTES, TRAILER_BYTES);
  const checked = file.subarray(offset + CHECK_BYTES, end - TRAILER_BYTES);
  if (crc32(checked) !== view.getUint32(0, true)) return { ok: false, fault: 'payload' };
  const start = (readVarint(checked, 0) as { end: number }).end;
  const record = decodePayload(checked.subarray(start));
  return record ? { ok: true, record, end } : { ok: false, fault: 'structure' };
}

function decodePayload(payload: Uint8Array): LogRecord | undefined {
  const kind = KINDS[payload[0] ?? 0];
  const seq = readVarint(payload, 1);
  const count = seq && readVarint(payload, seq.end);
  if (kind === undefined || seq === undefined || count === undefined) return undefined;
  const ops: NvOp[] = [];
  let at = count.end;
  for (let i = 0; i < count.value; i++) {
    const head = readVarint(payload, at);
    if (head === undefined) return undefined;
    const keyEnd = head.end + Math.floor(head.value / 2);
    if (keyEnd > payload.length) return undefined;
    let key: string;
    try {
      key = decoder.decode(payload.subarray(head.end, keyEnd));
    } catch {
      return undefined;
    }
    if (head.value % 2 === 0) {
      ops.push({ op: 'del', key });
      at = keyEnd;
      continue;
    }
    const length = readVarint(payload, keyEnd);
    if (length === undefined || length.end + length.value > payload.length) return undefined;
    ops.push({ op: 'put', key, value: payload.slice(length.end, length.end + length.value) });
    at = length.end + length.value;
  }
  return at === payload.length ? { kind, seq: seq.value, ops } : undefined;
}

/**
 * True when a whole, valid record starts anywhere after `offset`: damage
 * followed by a valid record is corruption, not a torn tail. Every offset is
 * tried (there is no magic to look for); the CRC-16 turns almost all away.
 */
export function validRecordAfterV2(file: Uint8Array, offset: number): boolean {
  for (let at = offset + 1; at + CHECK_BYTES + WINDOW_BYTES <= file.length; at++) {
    if (parseRecordV2(file, at).ok) return true;
  }
  return false;
}

/** An unsigned LEB128 varint at `at`, in its shortest form; undefined when absent, overlong or unsafe. */
function readVarint(bytes: Uint8Array, at: number): { value: number; end: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length && i < at + 8; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      // A last byte of 0 after others would make a second spelling of the same number.
      if (byte === 0 && i > at) return undefined;
      return value <= Number.MAX_SAFE_INTEGER ? { value, end: i + 1 } : undefined;
    }
    scale *= 128;
  }
  return undefined;
}

function varintBytes(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

/** Collects a payload's pieces, then copies them into one array. */
class Writer {
  readonly #parts: Uint8Array[] = [];
  #size = 0;

  byte(value: number): void {
    this.bytes(Uint8Array.of(value));
  }

  varint(value: number): void {
    this.bytes(varintBytes(value));
  }

  bytes(part: Uint8Array): void {
    this.#parts.push(part);
    this.#size += part.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xffff): detects every flip of up to 3 bits in its window. */
const CRC16_TABLE = Uint16Array.from({ length: 256 }, (_, n) => {
  let c = n << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  return c;
});

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number);
  return crc;
}
