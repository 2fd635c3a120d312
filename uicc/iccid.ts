import { decodeDecimalBcd, encodeDecimalBcd } from './bcd.js';
import { UiccError } from './errors.js';

/** EF_ICCID is 10 bytes (TS 102 221 §13.2, TS 51.011 §10.1.1). */
export const ICCID_BYTES = 10;

/** True when the digit string (check digit last) passes the Luhn check (ISO/IEC 7812-1 Annex B). */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit to append to `payload`. */
export function luhnCheckDigit(payload: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(payload + d)) return String(d);
  throw new UiccError('bad-argument', `no Luhn digit for "${payload}"`);
}

function checkIccidDigits(digits: string): void {
  // ITU-T E.118 §4.2: up to 19 digits plus the check digit; we accept 10..20 as cards vary.
  if (digits.length < 10 || digits.length > 20) {
    throw new UiccError('bad-encoding', `ICCID of ${digits.length} digits`);
  }
  if (!luhnValid(digits)) throw new UiccError('bad-check-digit', `ICCID ${digits} fails its Luhn check`);
}

/**
 * Decodes EF_ICCID: swapped-nibble BCD, F padded, last digit the Luhn check
 * digit (ITU-T E.118). The vector 98 88 12 01 00 00 40 03 10 F0 gives
 * 8988211000000430010, which passes Luhn as stored (check digit 0), so no
 * digit is dropped or recomputed.
 */
export function decodeIccid(bytes: Uint8Array): string {
  if (bytes.length !== ICCID_BYTES) throw new UiccError('bad-encoding', `EF_ICCID of ${bytes.length} bytes`);
  const digits = decodeDecimalBcd(bytes, 'EF_ICCID');
  checkIccidDigits(digits);
  return digits;
}

/** Encodes an ICCID (check digit included) for EF_ICCID. Throws on non-digits or a bad Luhn digit. */
export function encodeIccid(iccid: string): Uint8Array {
  if (!/^[0-9]+$/.test(iccid)) throw new UiccError('bad-argument', `ICCID "${iccid}" is not digits`);
  checkIccidDigits(iccid);
  return encodeDecimalBcd(iccid, ICCID_BYTES, 'ICCID');
}
