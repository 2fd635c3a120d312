import { UiccError } from './errors.js';
import { concatBytes } from './hex.js';

/** One BER-TLV data object (ISO 7816-4 §5.2; ISO/IEC 8825-1). Multi-byte tags are kept as one number. */
export interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
}

/** Parses a sequence of BER-TLV objects filling `bytes` exactly. Throws 'bad-response' on truncation. */
export function parseTlvs(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    let tag = bytes[at++]!;
    if ((tag & 0x1f) === 0x1f) {
      // Subsequent tag bytes while b8 = 1 (ISO/IEC 8825-1 §8.1.2.4); ISO 7816-4 uses at most 3 tag bytes.
      for (let n = 1; ; n++) {
        const next = bytes[at++];
        if (next === undefined || n > 2) throw new UiccError('bad-response', 'TLV tag truncated or too long');
        tag = (tag << 8) | next;
        if ((next & 0x80) === 0) break;
      }
    }
    if (at >= bytes.length) throw new UiccError('bad-response', 'TLV length missing');
    let len = bytes[at++]!;
    if (len === 0x81 || len === 0x82) {
      const n = len - 0x80;
      if (at + n > bytes.length) throw new UiccError('bad-response', 'TLV length truncated');
      len = n === 1 ? bytes[at]! : (bytes[at]! << 8) | bytes[at + 1]!;
      at += n;
    } else if (len > 0x80) {
      throw new UiccError('bad-response', `TLV length form 0x${len.toString(16)} not supported`);
    }
    if (at + len > bytes.length) throw new UiccError('bad-response', 'TLV value truncated');
    out.push({ tag, value: bytes.slice(at, at + len) });
    at += len;
  }
  return out;
}

/** First object with `tag`, or undefined. */
export function findTlv(tlvs: readonly Tlv[], tag: number): Uint8Array | undefined {
  return tlvs.find((t) => t.tag === tag)?.value;
}

/** Encodes one BER-TLV object (tags up to two bytes, values up to 65535 bytes). */
export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const tagBytes = tag > 0xff ? [tag >> 8, tag & 0xff] : [tag];
  const n = value.length;
  const lenBytes = n < 0x80 ? [n] : n <= 0xff ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concatBytes(Uint8Array.from([...tagBytes, ...lenBytes]), value);
}
