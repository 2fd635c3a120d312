import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './hex.js';
import { decodeImsi, encodeImsi } from './imsi.js';

describe('EF_IMSI (TS 31.102 §4.2.2, TS 51.011 §10.3.2)', () => {
  const vectors: [string, string][] = [
    ['08 09 10 10 00 00 00 10 20', '001010000000102'],
    ['08 29 82 60 82 00 00 20 80', '228062800000208'],
  ];
  for (const [hex, imsi] of vectors) {
    it(`decodes ${hex} to ${imsi} and encodes it back`, () => {
      expect(decodeImsi(fromHex(hex))).toBe(imsi);
      expect(toHex(encodeImsi(imsi))).toBe(toHex(fromHex(hex)));
    });
  }

  it('encodes an even digit count with parity bit clear and F filler', () => {
    // 14 digits: first byte 01 | digit1 << 4, last high nibble F.
    expect(toHex(encodeImsi('00101000000010'))).toBe('0801101000000010F0');
    expect(decodeImsi(encodeImsi('00101000000010'))).toBe('00101000000010');
  });

  it("rejects an unset EF (length FF), a parity mismatch, a bad type and garbage ('bad-encoding')", () => {
    const bad = [
      'FF FF FF FF FF FF FF FF FF',
      '08 01 10 10 00 00 00 10 20', // parity says even, 15 digits present
      '08 0A 10 10 00 00 00 10 20', // identity type 2 (IMEI), not IMSI
      '08 09 1A 10 00 00 00 10 20', // non-decimal digit
      '09 09 10 10 00 00 00 10 20', // length beyond the EF
      '08',
    ];
    for (const hex of bad) {
      expect(() => decodeImsi(fromHex(hex)), hex).toThrow(expect.objectContaining({ kind: 'bad-encoding' }));
    }
  });

  it("refuses to encode non-digits or more than 15 digits ('bad-argument')", () => {
    expect(() => encodeImsi('0010100000001020')).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
    expect(() => encodeImsi('00101A')).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
  });
});
