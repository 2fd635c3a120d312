import { FORMAT_VERSION_2, parseRecordV2, recordEndV2, validRecordAfterV2 } from './file-nv-log-v2.js';
import { FORMAT_VERSION, fileHeaderVersion } from './nv-log-format.js';
import { corrupt, type LogFraming, type ReplayedLog, replayLog, replayRecords } from './nv-log-recovery.js';

/** A replayed log and the format it is written in. */
export interface VersionedLog extends ReplayedLog {
  version: 1 | 2;
}

/**
 * Replays a log of either format, format 1 (what FileNvStore wrote before
 * format 2) or format 2, through the one replay of nv-log-recovery.ts, each
 * with its own framing: the same sequence, snapshot and torn-tail rules. A
 * damaged record is a torn tail, and is dropped, only when no whole record
 * follows it; anything else that fails a checksum or the structure rules
 * rejects 'store-corrupt' naming the file and the offset of the record.
 */
export function replayAnyLog(file: Uint8Array, path: string): VersionedLog {
  const version = fileHeaderVersion(file);
  if (version === FORMAT_VERSION) return { ...replayLog(file, path), version: 1 };
  if (version !== FORMAT_VERSION_2) throw corrupt(path, 0, 'bad file header');
  return { ...replayRecords(file, path, FORMAT_2), version: 2 };
}

/** Format 2 (file-nv-log-v2.ts): a record's extent is known once its guarded length checks. */
const FORMAT_2: LogFraming = {
  parse: parseRecordV2,
  recordEnd: recordEndV2,
  validRecordAfter: validRecordAfterV2,
};
