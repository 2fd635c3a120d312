import { UiccError } from './errors.js';

/** PIN/PUK data objects are 8 bytes (TS 51.011 §9.3, TS 102 221 §9.5.1). */
export const PIN_BLOCK_BYTES = 8;

/**
 * A PIN or PUK as the card compares it: ASCII digits (IRA, b8 = 0) padded
 * with 'FF' to 8 bytes (TS 102 221 §9.5.1; TS 51.011 §9.3 for CHV/UNBLOCK CHV).
 */
export function encodePinBlock(digits: string, minLength = 4): Uint8Array {
  if (!new RegExp(`^[0-9]{${minLength},8}$`).test(digits)) {
    throw new UiccError('bad-argument', `PIN/PUK must be ${minLength}–8 decimal digits`);
  }
  const out = new Uint8Array(PIN_BLOCK_BYTES).fill(0xff);
  for (let i = 0; i < digits.length; i++) out[i] = digits.charCodeAt(i);
  return out;
}

/** PIN1 is 4–8 digits (TS 102 221 §9.5.1). */
export function isValidPin(pin: string): boolean {
  return /^[0-9]{4,8}$/.test(pin);
}

/** The PUK (UNBLOCK PIN / UNBLOCK CHV1) is 8 digits (TS 102 221 §9.5.2, TS 51.011 §9.3). */
export function isValidPuk(puk: string): boolean {
  return /^[0-9]{8}$/.test(puk);
}
