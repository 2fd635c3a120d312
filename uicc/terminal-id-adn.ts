import { ADN_MAX_DIGITS, decodeAdnRecord, encodeAdnRecord, gsmAlpha, TON_NPI_UNKNOWN_ISDN } from './adn.js';
import { UiccError } from './errors.js';
import type { TerminalIdCodec } from './terminal-id-codec.js';

/**
 * Fallback storage of the FIG. 11-A terminal-ID list in the phonebook
 * (EF_ADN, TS 51.011 §10.5.1) of cards without simsync's proprietary EF,
 * i.e. every operator SIM.
 *
 * One terminal ID per ADN record. Our records carry exactly the alpha
 * identifier "SIMSYNC-TID" (GSM default alphabet, FF padded); the ID is the
 * dialling number itself. So an ID here is 1–20 characters of the dialling
 * set 0-9 * # (TS 51.011 §10.5.1 BCD values 0–9, A, B; 20 = the digits of the
 * 10 number bytes without an EXT1 record). An IMEI (15 digits) or any decimal
 * rendering fits; pause/wild (C, D) are excluded: they are dialling controls, not digits.
 * A phone shows the entries as a contact "SIMSYNC-TID" with that number,
 * which keeps them visible and deletable by the user.
 *
 * Records with any other alpha, or an empty alpha with a number, belong to
 * the user and are never written.
 */
export const ADN_MARKER = 'SIMSYNC-TID';
const MARKER_BYTES = gsmAlpha(ADN_MARKER);
const ADN_ID = new RegExp(`^[0-9*#]{1,${ADN_MAX_DIGITS}}$`);

function trimmedAlpha(record: Uint8Array, recordLength: number): Uint8Array {
  let end = Math.max(0, recordLength - 14);
  while (end > 0 && record[end - 1] === 0xff) end--;
  return record.subarray(0, end);
}

function isMarker(alpha: Uint8Array): boolean {
  return alpha.length === MARKER_BYTES.length && alpha.every((b, i) => b === MARKER_BYTES[i]);
}

/** True when `id` can be kept in an ADN record. */
export function isAdnTerminalId(id: string): boolean {
  return ADN_ID.test(id);
}

export const adnTerminalIdCodec: TerminalIdCodec = {
  classify(record) {
    if (record.every((b) => b === 0xff)) return 'free';
    return isMarker(trimmedAlpha(record, record.length)) ? 'ours' : 'foreign';
  },
  decode(record) {
    try {
      const entry = decodeAdnRecord(record);
      return entry !== undefined && isAdnTerminalId(entry.number) ? entry.number : undefined;
    } catch {
      return undefined;
    }
  },
  encode(id, recordLength) {
    if (recordLength - 14 < MARKER_BYTES.length) {
      // The card's alpha field cannot carry the marker, so it cannot hold our list at all.
      throw new UiccError(
        'no-space',
        `EF_ADN alpha of ${recordLength - 14} bytes cannot hold "${ADN_MARKER}"`,
      );
    }
    if (!isAdnTerminalId(id)) {
      throw new UiccError(
        'bad-argument',
        `terminal ID "${id}" is not 1–${ADN_MAX_DIGITS} of 0-9 * # (EF_ADN storage)`,
      );
    }
    return encodeAdnRecord({ alpha: MARKER_BYTES, number: id, tonNpi: TON_NPI_UNKNOWN_ISDN }, recordLength);
  },
  empty: (recordLength) => new Uint8Array(recordLength).fill(0xff),
};
