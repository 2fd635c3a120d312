import { decodeDecimalBcd, packSwappedNibbles } from './bcd.js';
import { UiccError } from './errors.js';

/** EF_IMSI is 9 bytes: a length byte and up to 8 bytes of digits (TS 31.102 §4.2.2, TS 51.011 §10.3.2). */
export const IMSI_BYTES = 9;

/** TS 24.008 §10.5.1.4 type of identity "IMSI", in b3..b1 of the first digit byte. */
const TYPE_IMSI = 0b001;
/** b4 of the first digit byte: set when the number of digits is odd. */
const ODD = 0b1000;

/**
 * Decodes EF_IMSI: byte 1 is the number of bytes that follow; byte 2 holds
 * digit 1 in its high nibble and parity + identity type in its low nibble;
 * the rest are swapped-nibble digits, F-filled when the count is even.
 */
export function decodeImsi(bytes: Uint8Array): string {
  if (bytes.length < 2) throw new UiccError('bad-encoding', `EF_IMSI of ${bytes.length} bytes`);
  const len = bytes[0]!;
  if (len < 1 || len > 8 || len + 1 > bytes.length) {
    throw new UiccError('bad-encoding', `EF_IMSI length byte ${len} is invalid (unset EF?)`);
  }
  const first = bytes[1]!;
  if ((first & 0x07) !== TYPE_IMSI) throw new UiccError('bad-encoding', 'EF_IMSI identity type is not IMSI');
  const digit1 = first >> 4;
  if (digit1 > 9) throw new UiccError('bad-encoding', 'EF_IMSI: non-decimal first digit');
  const rest = decodeDecimalBcd(bytes.slice(2, 1 + len), 'EF_IMSI');
  const imsi = `${digit1}${rest}`;
  const odd = (first & ODD) !== 0;
  if (odd !== (imsi.length % 2 === 1)) throw new UiccError('bad-encoding', 'EF_IMSI parity bit disagrees');
  // TS 23.003 §2.2: an IMSI is at most 15 digits; 6 is the shortest MCC + MNC + 1.
  if (imsi.length < 6 || imsi.length > 15)
    throw new UiccError('bad-encoding', `IMSI of ${imsi.length} digits`);
  return imsi;
}

/** Encodes an IMSI (6–15 digits) into the 9-byte EF_IMSI layout. */
export function encodeImsi(imsi: string): Uint8Array {
  if (!/^[0-9]{6,15}$/.test(imsi)) throw new UiccError('bad-argument', `IMSI "${imsi}" is not 6–15 digits`);
  const digits = [...imsi].map(Number);
  const odd = digits.length % 2 === 1;
  const nibbles = [(odd ? ODD : 0) | TYPE_IMSI, ...digits];
  const body = packSwappedNibbles(nibbles, Math.ceil(nibbles.length / 2));
  const out = new Uint8Array(IMSI_BYTES).fill(0xff);
  out[0] = body.length;
  out.set(body, 1);
  return out;
}
