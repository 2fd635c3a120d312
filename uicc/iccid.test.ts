import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './hex.js';
import { decodeIccid, encodeIccid, luhnCheckDigit, luhnValid } from './iccid.js';

describe('EF_ICCID (TS 102 221 §13.2, ITU-T E.118)', () => {
  it('decodes swapped-nibble BCD with F padding: 98 88 12 01 00 00 40 03 10 F0', () => {
    expect(decodeIccid(fromHex('98 88 12 01 00 00 40 03 10 F0'))).toBe('8988211000000430010');
  });

  it('the vector passes Luhn with its own last digit as the check digit', () => {
    expect(luhnValid('8988211000000430010')).toBe(true);
    expect(luhnCheckDigit('898821100000043001')).toBe('0');
  });

  it('encodes back to the same bytes', () => {
    expect(toHex(encodeIccid('8988211000000430010'))).toBe('988812010000400310F0');
  });

  it('round-trips a 20-digit ICCID', () => {
    const iccid = `8949000000000000123${luhnCheckDigit('8949000000000000123')}`;
    expect(decodeIccid(encodeIccid(iccid))).toBe(iccid);
  });

  it("rejects a wrong check digit with 'bad-check-digit'", () => {
    // Last nibble pair 10 F0 -> 11 F0 turns the check digit 0 into 1.
    expect(() => decodeIccid(fromHex('98 88 12 01 00 00 40 03 11 F0'))).toThrow(
      expect.objectContaining({ kind: 'bad-check-digit' }),
    );
    expect(() => encodeIccid('8988211000000430011')).toThrow(
      expect.objectContaining({ kind: 'bad-check-digit' }),
    );
  });

  it("rejects non-decimal digits, digits after the filler, wrong sizes and an erased EF ('bad-encoding')", () => {
    for (const hex of [
      '98 88 12 0A 00 00 40 03 10 F0',
      '98 88 12 01 00 00 40 03 F0 10',
      '98 88 12',
      'FF'.repeat(10),
    ]) {
      expect(() => decodeIccid(fromHex(hex)), hex).toThrow(expect.objectContaining({ kind: 'bad-encoding' }));
    }
  });

  it("refuses to encode non-digits ('bad-argument')", () => {
    expect(() => encodeIccid('89882110000004300X0')).toThrow(
      expect.objectContaining({ kind: 'bad-argument' }),
    );
  });
});
