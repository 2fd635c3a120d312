import { UiccError } from './errors.js';

/**
 * "Swapped-nibble" BCD as used by EF_ICCID (TS 102 221 §13.2), EF_IMSI
 * (TS 31.102 §4.2.2) and EF_ADN numbers (TS 51.011 §10.5.1): each byte holds
 * two digits, the first in the low nibble. 'F' is filler.
 */

/** The nibbles of `bytes` in digit order (low nibble first). */
export function swappedNibbles(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (const b of bytes) out.push(b & 0x0f, b >> 4);
  return out;
}

/** Packs nibbles low-first into `length` bytes, padding with F. */
export function packSwappedNibbles(nibbles: readonly number[], length: number): Uint8Array {
  const out = new Uint8Array(length).fill(0xff);
  for (let i = 0; i < nibbles.length; i++) {
    const at = i >> 1;
    const n = nibbles[i]! & 0x0f;
    out[at] = i % 2 === 0 ? (out[at]! & 0xf0) | n : (out[at]! & 0x0f) | (n << 4);
  }
  return out;
}

/**
 * Decimal digits of a swapped-nibble BCD field: stops at the first F, and
 * requires everything after it to be F as well. Throws 'bad-encoding' on a
 * nibble A–E or a digit after the filler.
 */
export function decodeDecimalBcd(bytes: Uint8Array, what: string): string {
  const nibbles = swappedNibbles(bytes);
  const end = nibbles.indexOf(0x0f);
  const digits = end < 0 ? nibbles : nibbles.slice(0, end);
  if (end >= 0 && nibbles.slice(end).some((n) => n !== 0x0f)) {
    throw new UiccError('bad-encoding', `${what}: digits after the F filler`);
  }
  if (digits.some((n) => n > 9)) throw new UiccError('bad-encoding', `${what}: non-decimal BCD digit`);
  return digits.join('');
}

/** Encodes decimal digits into swapped-nibble BCD of `length` bytes (F padded). */
export function encodeDecimalBcd(digits: string, length: number, what: string): Uint8Array {
  if (!/^[0-9]*$/.test(digits) || digits.length > length * 2) {
    throw new UiccError('bad-argument', `${what}: "${digits}" is not up to ${length * 2} decimal digits`);
  }
  return packSwappedNibbles([...digits].map(Number), length);
}
