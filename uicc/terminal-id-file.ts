import { UiccError } from './errors.js';
import type { TerminalIdCodec } from './terminal-id-codec.js';

/**
 * Records of simsync's proprietary terminal-ID EF (DF 7FDE / EF 6F01, see
 * file-ids.ts and README.md): byte 1 is the ID length n (1..recordLength-1),
 * bytes 2..n+1 the ID in printable ASCII, the rest FF. An all-FF record is
 * unused, like every unused record in TS 51.011 §10.
 * Default geometry: 8 records × 34 bytes; IDs are at most 32 characters, so
 * the last byte stays FF (reserved, e.g. for a future flags byte).
 */
export const TERMINAL_ID_MAX_LENGTH = 32;
export const TERMINAL_ID_RECORDS = 8;
export const TERMINAL_ID_RECORD_LENGTH = 34;

const PRINTABLE = /^[\x20-\x7e]+$/;

function maxLength(recordLength: number): number {
  return Math.min(TERMINAL_ID_MAX_LENGTH, recordLength - 1);
}

function isEmpty(record: Uint8Array): boolean {
  return record.every((b) => b === 0xff);
}

export const proprietaryTerminalIdCodec: TerminalIdCodec = {
  // Every record of this EF is ours: there is no foreign content to protect.
  classify: (record) => (isEmpty(record) ? 'free' : 'ours'),
  decode(record) {
    const n = record[0];
    if (n === undefined || n === 0 || n > maxLength(record.length)) return undefined;
    const id = String.fromCharCode(...record.subarray(1, 1 + n));
    return PRINTABLE.test(id) ? id : undefined;
  },
  encode(id, recordLength) {
    const max = maxLength(recordLength);
    if (id.length < 1 || id.length > max || !PRINTABLE.test(id)) {
      throw new UiccError('bad-argument', `terminal ID must be 1–${max} printable ASCII characters`);
    }
    const out = new Uint8Array(recordLength).fill(0xff);
    out[0] = id.length;
    for (let i = 0; i < id.length; i++) out[1 + i] = id.charCodeAt(i);
    return out;
  },
  empty: (recordLength) => new Uint8Array(recordLength).fill(0xff),
};
