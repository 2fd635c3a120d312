import { UiccError } from './errors.js';
import { concatBytes } from './hex.js';

/** A response APDU split into its body and the trailing status word (ISO 7816-4 §5.1). */
export interface ResponseApdu {
  readonly data: Uint8Array;
  /** SW1 << 8 | SW2. */
  readonly sw: number;
}

/** Splits a raw response. Throws 'bad-response' when it cannot even hold SW1 SW2. */
export function parseResponse(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) {
    throw new UiccError('bad-response', `response of ${bytes.length} bytes has no SW1 SW2`);
  }
  const n = bytes.length;
  return { data: bytes.slice(0, n - 2), sw: (bytes[n - 2]! << 8) | bytes[n - 1]! };
}

/** Encodes a response (card side). */
export function encodeResponse(sw: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concatBytes(data, Uint8Array.of((sw >> 8) & 0xff, sw & 0xff));
}
