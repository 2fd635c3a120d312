import { HalError } from '../hal/index.js';
import {
  FORMAT_VERSION_2,
  fileHeaderVersion,
  parseRecordV2,
  recordEndV2,
  validRecordAfterV2,
} from './file-nv-log-v2.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, type RecordFault } from './nv-log-format.js';
import { applyOps, type ReplayedLog, replayLog } from './nv-log-recovery.js';

/** A replayed log and the format it is written in. */
export interface VersionedLog extends ReplayedLog {
  version: 1 | 2;
}

/**
 * Replays a log of either format: format 1 (what FileNvStore wrote before
 * format 2) through its own reader, nv-log-recovery.ts, unchanged; format 2
 * by the same rules. A damaged record is a torn tail, and is dropped, only
 * when no whole record follows it: commits are appended one at a time and
 * fsynced before they resolve, so only the final append can ever be torn.
 * Anything else that fails a checksum or the structure rules rejects
 * 'store-corrupt' naming the file and the offset of the record.
 */
export function replayAnyLog(file: Uint8Array, path: string): VersionedLog {
  const version = fileHeaderVersion(file);
  if (version === FORMAT_VERSION) return { ...replayLog(file, path), version: 1 };
  if (version !== FORMAT_VERSION_2) throw corrupt(path, 0, 'bad file header');
  const entries = new Map<string, Uint8Array>();
  let seq = 0;
  let snapshotOpen = false;
  let offset = FILE_HEADER_BYTES;
  while (offset < file.length) {
    const parsed = parseRecordV2(file, offset);
    if (!parsed.ok) {
      if (isTornTail(file, offset, parsed.fault)) break;
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
  return { entries, seq, validBytes: offset, tornBytes: file.length - offset, version: 2 };
}

/**
 * Whether a damaged record at `offset` is an append cut by a crash (never
 * acknowledged: dropped) rather than damage (refused); the rules of format 1
 * (nv-log-recovery.ts): the file ending inside the record, or a sector of it
 * never written (zeros), with no whole record after it.
 */
function isTornTail(file: Uint8Array, offset: number, fault: RecordFault): boolean {
  if (fault === 'short' || fault === 'beyond-end') return true;
  // The checksums matched, so these bytes were written whole: a bad structure is not a tear.
  if (fault === 'structure') return false;
  const end = recordEndV2(file, offset);
  if (fault === 'header' || end === undefined)
    return !validRecordAfterV2(file, offset) && hasUnwrittenSector(file, offset, file.length);
  // The length is vouched for, so the record's extent is known: search only past it,
  // so that a value which happens to contain a record cannot mislead the search.
  const last = end >= file.length || !validRecordAfterV2(file, end - 1);
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

function corrupt(path: string, offset: number, what: string): HalError {
  return new HalError('store-corrupt', `${path}: ${what} at byte ${offset}`, { file: path, offset });
}
