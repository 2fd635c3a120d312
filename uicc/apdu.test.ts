import { describe, expect, it } from 'vitest';
import { apduCase, encodeApdu, parseApdu } from './apdu.js';
import { isUiccError } from './errors.js';
import { fromHex, toHex } from './hex.js';

describe('ISO 7816-4 §5.1 short command APDUs', () => {
  const vectors: [string, string, number][] = [
    ['case 1: VERIFY status query', '00200001', 1],
    ['case 2: READ BINARY 9 bytes', '00B0000009', 2],
    ['case 2: Le = 00 means 256', 'A0B0000000', 2],
    ['case 3: 2G SELECT 3F00', 'A0A40000023F00', 3],
    ['case 4: 3G SELECT with FCP', '00A40004023F0000', 4],
  ];
  for (const [name, hex, kase] of vectors) {
    it(`round-trips ${name}`, () => {
      const apdu = parseApdu(fromHex(hex));
      expect(apduCase(apdu)).toBe(kase);
      expect(toHex(encodeApdu(apdu))).toBe(hex);
    });
  }

  it('parses the fields of a case-4 APDU', () => {
    const apdu = parseApdu(fromHex('00A4040410A0000000871002FFFFFFFF8907090000 00'));
    expect(apdu).toMatchObject({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x04, le: 256 });
    expect(toHex(apdu.data!)).toBe('A0000000871002FFFFFFFF8907090000');
  });

  it('encodes Le = 256 as 00 and a VERIFY PIN block as case 3', () => {
    expect(toHex(encodeApdu({ cla: 0, ins: 0xc0, p1: 0, p2: 0, le: 256 }))).toBe('00C0000000');
    const data = fromHex('31323334FFFFFFFF');
    expect(toHex(encodeApdu({ cla: 0xa0, ins: 0x20, p1: 0, p2: 1, data }))).toBe(
      'A02000010831323334FFFFFFFF',
    );
  });

  const garbage: [string, string][] = [
    ['empty', ''],
    ['three bytes', '00A400'],
    ['Lc larger than the body', '00A4000004 3F00'],
    ['Lc smaller than the body (two extra bytes)', '00A4000002 3F00 0000'],
    ['Lc = 00 followed by a body', '00A4000000 3F'],
  ];
  for (const [name, hex] of garbage) {
    it(`rejects ${name} with 'bad-apdu'`, () => {
      expect(() => parseApdu(fromHex(hex))).toThrow(expect.objectContaining({ kind: 'bad-apdu' }));
    });
  }

  it("refuses to build what a short APDU cannot carry ('bad-argument')", () => {
    const cases = [
      { cla: 0x100, ins: 0, p1: 0, p2: 0 },
      { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 0 },
      { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 257 },
      { cla: 0, ins: 0xd6, p1: 0, p2: 0, data: new Uint8Array(0) },
      { cla: 0, ins: 0xd6, p1: 0, p2: 0, data: new Uint8Array(256) },
    ];
    for (const c of cases) {
      let caught: unknown;
      try {
        encodeApdu(c);
      } catch (e) {
        caught = e;
      }
      expect(isUiccError(caught, 'bad-argument')).toBe(true);
    }
  });
});
