import { HalError, type NvOp } from '../hal/index.js';
import {
  FILE_HEADER_BYTES,
  fileHeaderValid,
  type ParseResult,
  parseRecord,
  type RecordFault,
  validRecordAfter,
} from './nv-log-format.js';

/** What a log file holds once replayed. */
export interface ReplayedLog {
  entries: Map<string, Uint8Array>;
  /** Sequence number of the last batch applied (0 for a fresh store). */
  seq: number;
  /** Offset just past the last whole record: where the next append goes. */
  validBytes: number;
  /** Bytes of a torn final append that were discarded (0 when the file ended cleanly). */
  tornBytes: number;
}

/** How one log format frames its records: what the replay needs to walk a file of them. */
export interface LogFraming {
  parse(file: Uint8Array, offset: number): ParseResult;
  /** Where the record at `offset` ends, when its header can be trusted to say so. */
  recordEnd(file: Uint8Array, offset: number): number | undefined;
  /** Whether a whole record starts anywhere after `offset`. */
  validRecordAfter(file: Uint8Array, offset: number): boolean;
}

/** Format 1 (nv-log-format.ts): a 16-byte header whose bytes 4–7 give the payload length. */
const FORMAT_1: LogFraming = {
  parse: parseRecord,
  recordEnd: (file, offset) =>
    offset + 16 + new DataView(file.buffer, file.byteOffset + offset, 8).getUint32(4, true),
  validRecordAfter,
};

/** Replays a format 1 log file (nv-log-format.ts) into a key/value map, by the rules of `replayRecords`. */
export function replayLog(file: Uint8Array, path: string): ReplayedLog {
  if (!fileHeaderValid(file)) throw corrupt(path, 0, 'bad file header');
  return replayRecords(file, path, FORMAT_1);
}

/**
 * Replays the records of a log file, after its header, into a key/value map.
 *
 * A damaged record is a torn tail, and is dropped, only when no whole record
 * follows it: commits are appended one at a time and fsynced before they
 * resolve, so only the final append can ever be torn. Anything else that
 * fails a checksum or the structure rules rejects 'store-corrupt' naming the
 * file and the record's offset.
 */
export function replayRecords(file: Uint8Array, path: string, framing: LogFraming): ReplayedLog {
  const entries = new Map<string, Uint8Array>();
  let seq = 0;
  let snapshotOpen = false;
  let offset = FILE_HEADER_BYTES;
  while (offset < file.length) {
    const parsed = framing.parse(file, offset);
    if (!parsed.ok) {
      if (isTornTail(file, offset, parsed.fault, framing)) break;
      throw corrupt(path, offset, `record fails its ${parsed.fault} check`);
    }
    const { record } = parsed;
    if (record.kind === 'batch') {
      if (snapshotOpen) throw corrupt(path, offset, 'snapshot not finished');
      if (seq !== 0 && record.seq !== seq + 1)
        throw corrupt(path, offset, `batch ${record.seq} after ${seq}`);
      seq = record.seq;
    } else {
      const first = offset === FILE_HEADER_BYTES;
      if (!first && !(snapshotOpen && record.seq === seq)) throw corrupt(path, offset, 'misplaced snapshot');
      seq = record.seq;
      snapshotOpen = record.kind === 'snapshot';
    }
    applyOps(entries, record.ops);
    offset = parsed.end;
  }
  if (snapshotOpen) throw corrupt(path, offset, 'snapshot not finished');
  return { entries, seq, validBytes: offset, tornBytes: file.length - offset };
}

/**
 * Whether a damaged record at `offset` is an append cut by a crash (never
 * acknowledged: dropped) rather than damage (refused). Only the final record
 * can be torn, and a tear is what power loss leaves of a pwrite: the file
 * ending inside the record, or sectors of it never written, which read as
 * zeros. A final record with every one of its sectors holding data, that
 * still fails its checksum, was written whole and damaged since (a bit flip).
 */
function isTornTail(file: Uint8Array, offset: number, fault: RecordFault, framing: LogFraming): boolean {
  if (fault === 'short' || fault === 'beyond-end') return true;
  // The checksum matched, so these bytes were written whole: a bad structure is not a tear.
  if (fault === 'structure') return false;
  const end = fault === 'header' ? undefined : framing.recordEnd(file, offset);
  if (end === undefined)
    return !framing.validRecordAfter(file, offset) && hasUnwrittenSector(file, offset, file.length);
  // The header is intact, so the record's extent is known: search only past it,
  // so that a value which happens to contain a record cannot mislead the search.
  const last = end >= file.length || !framing.validRecordAfter(file, end - 1);
  return last && hasUnwrittenSector(file, offset, Math.min(end, file.length));
}

/** What a disk writes whole (the smallest sector): a torn write leaves whole sectors unwritten. */
const SECTOR_BYTES = 512;

/** True when the part of some 512-byte sector that falls in file[from, to) is all zeros. */
function hasUnwrittenSector(file: Uint8Array, from: number, to: number): boolean {
  for (let start = from; start < to; ) {
    const end = Math.min(to, (Math.floor(start / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    if (file.subarray(start, end).every((b) => b === 0)) return true;
    start = end;
  }
  return false;
}

export function applyOps(entries: Map<string, Uint8Array>, ops: readonly NvOp[]): void {
  for (const op of ops) {
    if (op.op === 'put') entries.set(op.key, op.value);
    else entries.delete(op.key);
  }
}

export function corrupt(path: string, offset: number, what: string): HalError {
  return new HalError('store-corrupt', `${path}: ${what} at byte ${offset}`, { file: path, offset });
}
