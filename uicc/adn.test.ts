import { describe, expect, it } from 'vitest';
import { decodeAdnRecord, encodeAdnRecord, gsmAlpha, isEmptyAdnRecord } from './adn.js';
import { fromHex, toHex } from './hex.js';

describe('EF_ADN records (TS 51.011 §10.5.1)', () => {
  it('encodes alpha, BCD length, TON/NPI, swapped digits and FF trailer', () => {
    const rec = encodeAdnRecord({ alpha: gsmAlpha('Mum'), number: '4912345', tonNpi: 0x91 }, 28);
    // "Mum" + 11 × FF | length 05 (TON/NPI + 4 number bytes) | 91 | 94 21 43 F5 FF… | FF FF
    expect(toHex(rec)).toBe(`4D756D${'FF'.repeat(11)}0591942143F5${'FF'.repeat(6)}FFFF`);
    expect(decodeAdnRecord(rec)).toEqual({ alpha: gsmAlpha('Mum'), number: '4912345', tonNpi: 0x91 });
  });

  it('maps * # p ? onto the extended BCD values A B C D', () => {
    const rec = encodeAdnRecord({ alpha: new Uint8Array(0), number: '*#1p?', tonNpi: 0x81 }, 14);
    expect(toHex(rec.subarray(0, 5))).toBe('0481BAC1FD');
    expect(decodeAdnRecord(rec)?.number).toBe('*#1p?');
  });

  it('treats an all-FF record as unused and an alpha-only record as a (user) entry', () => {
    expect(isEmptyAdnRecord(new Uint8Array(28).fill(0xff))).toBe(true);
    expect(decodeAdnRecord(new Uint8Array(28).fill(0xff))).toBeUndefined();
    const alphaOnly = fromHex(`41${'FF'.repeat(27)}`);
    expect(decodeAdnRecord(alphaOnly)).toEqual({ alpha: fromHex('41'), number: '', tonNpi: 0xff });
  });

  it("refuses a number longer than 20 digits or with other characters ('bad-argument')", () => {
    const tooLong = { alpha: new Uint8Array(0), number: '1'.repeat(21), tonNpi: 0x81 };
    expect(() => encodeAdnRecord(tooLong, 28)).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
    const letters = { alpha: new Uint8Array(0), number: '12AB', tonNpi: 0x81 };
    expect(() => encodeAdnRecord(letters, 28)).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
    expect(() => gsmAlpha('a@b')).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
  });

  it("rejects a BCD length beyond the number field ('bad-encoding')", () => {
    const rec = fromHex(`${'FF'.repeat(14)}0C81${'11'.repeat(10)}FFFF`);
    expect(() => decodeAdnRecord(rec)).toThrow(expect.objectContaining({ kind: 'bad-encoding' }));
  });
});
