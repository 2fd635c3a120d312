import { describe, expect, it } from 'vitest';
import { decodeFcp } from './fcp.js';
import { decodeGsmResponse } from './gsm-response.js';
import { fromHex, toHex } from './hex.js';
import { proprietaryTerminalIdCodec } from './terminal-id-file.js';
import type { VirtualUiccProfile } from './virtual-profile.js';
import { VIRTUAL_ATR, VirtualUicc } from './virtual-uicc.js';

const ICCID = '8988211000000430010';
const IMSI = '001010000000102';
const AID = 'A0000000871002FFFFFFFF8907090000';
const PIN_1234 = '31323334FFFFFFFF';
const PIN_0000 = '30303030FFFFFFFF';
const PIN_5555 = '35353535FFFFFFFF';
const PUK = '3132333435363738';

function card(extra: Partial<VirtualUiccProfile> = {}): VirtualUicc {
  const c = new VirtualUicc({ iccid: ICCID, imsi: IMSI, ...extra });
  c.powerOn();
  return c;
}

/** Sends hex, returns the response as hex. */
const send = (c: VirtualUicc, hex: string) => toHex(c.process(fromHex(hex)));
/** Sends hex, returns only the SW. */
const swOf = (c: VirtualUicc, hex: string) => send(c, hex).slice(-4);

describe('VirtualUicc 3G (CLA 00, TS 31.101/31.102)', () => {
  it('answers a cold reset with its ATR and the MF selected', () => {
    const c = new VirtualUicc({ iccid: ICCID, imsi: IMSI });
    expect(toHex(c.powerOn())).toBe(toHex(VIRTUAL_ATR));
    expect(swOf(c, '80F2000C')).toBe('9000');
  });

  it('SELECT MF returns an FCP with the PIN status template C6', () => {
    const r = fromHex(send(card(), '00A40004023F0000'));
    expect(toHex(r.subarray(-2))).toBe('9000');
    expect(decodeFcp(r.subarray(0, -2))).toMatchObject({ fid: 0x3f00, type: 'mf', pin1Enabled: true });
  });

  it('SELECT EF_ADN: FCP tag 82 gives record length 28 and 20 records', () => {
    const c = card();
    expect(swOf(c, '00A4000C027F10')).toBe('9000');
    const r = fromHex(send(c, '00A40004026F3A00'));
    expect(decodeFcp(r.subarray(0, -2))).toMatchObject({ fid: 0x6f3a, recordLength: 28, recordCount: 20 });
  });

  it('reads EF_ICCID without PIN', () => {
    const c = card();
    expect(swOf(c, '00A4000C022FE2')).toBe('9000');
    expect(send(c, '00B000000A')).toBe('988812010000400310F09000');
  });

  it('selects ADF_USIM by (partial) AID, also as 7FFF afterwards', () => {
    const c = card();
    expect(swOf(c, '00A4000C027FFF')).toBe('6A82'); // no application active yet
    const r = fromHex(send(c, `00A4040410${AID}00`));
    expect(toHex(decodeFcp(r.subarray(0, -2)).aid!)).toBe(AID);
    expect(swOf(c, '00A4000C023F00')).toBe('9000');
    expect(swOf(c, '00A4000C027FFF')).toBe('9000');
    expect(swOf(c, '00A4040407A000000087100200')).toBe('9000');
    expect(swOf(c, '00A4040407A000000087100300')).toBe('6A82');
  });

  it('IMSI is unreadable before PIN1 (6982) and readable after VERIFY', () => {
    const c = card();
    expect(swOf(c, `00A4040C10${AID}`)).toBe('9000');
    expect(swOf(c, '00A4000C026F07')).toBe('9000');
    expect(send(c, '00B0000009')).toBe('6982');
    expect(send(c, `0020000108${PIN_1234}`)).toBe('9000');
    expect(send(c, '00B0000009')).toBe('0809101000000010209000');
  });

  it('wrong PIN decrements (63C2, 63C1), the third blocks (6983), and the right PIN no longer helps', () => {
    const c = card();
    expect(send(c, '00200001')).toBe('63C3');
    expect(send(c, `0020000108${PIN_0000}`)).toBe('63C2');
    expect(send(c, `0020000108${PIN_0000}`)).toBe('63C1');
    expect(send(c, `0020000108${PIN_0000}`)).toBe('6983');
    expect(send(c, `0020000108${PIN_1234}`)).toBe('6983');
    expect(send(c, '00200001')).toBe('6983');
    expect(c.snapshot().pinRetriesLeft).toBe(0);
  });

  it('a right PIN restores the counter; VERIFY without data then answers 9000', () => {
    const c = card();
    send(c, `0020000108${PIN_0000}`);
    expect(send(c, `0020000108${PIN_1234}`)).toBe('9000');
    expect(send(c, '00200001')).toBe('9000');
    expect(c.snapshot().pinRetriesLeft).toBe(3);
  });

  it('UNBLOCK PIN with the PUK sets the new PIN, resets the counter and verifies PIN1', () => {
    const c = card();
    for (let i = 0; i < 3; i++) send(c, `0020000108${PIN_0000}`);
    expect(send(c, '002C0001')).toBe('63CA');
    expect(send(c, `002C000110${'3939393939393939'}${PIN_5555}`)).toBe('63C9');
    expect(send(c, `002C000110${PUK}${PIN_5555}`)).toBe('9000');
    expect(c.snapshot()).toMatchObject({ pinRetriesLeft: 3, pukRetriesLeft: 10, pinVerified: true });
    expect(toHex(c.snapshot().pinBlock)).toBe(PIN_5555);
    expect(send(c, `0020000108${PIN_1234}`)).toBe('63C2');
    expect(send(c, `0020000108${PIN_5555}`)).toBe('9000');
  });

  it('UNBLOCK PIN refuses a malformed new PIN (6A80) without spending a PUK try', () => {
    const c = card();
    expect(send(c, `002C000110${PUK}3132FFFFFFFFFFFF`)).toBe('6A80');
    expect(c.snapshot().pukRetriesLeft).toBe(10);
  });

  it('ten wrong PUKs block the PUK for good (6983)', () => {
    const c = card();
    for (let i = 9; i >= 1; i--)
      expect(send(c, `002C000110${'3939393939393939'}${PIN_5555}`)).toBe(`63C${i}`);
    expect(send(c, `002C000110${'3939393939393939'}${PIN_5555}`)).toBe('6983');
    expect(send(c, `002C000110${PUK}${PIN_5555}`)).toBe('6983');
  });

  it('terminal-ID file 7FDE/6F01: 8 × 34 records, read and update only after PIN1', () => {
    const c = card();
    expect(swOf(c, '00A4000C027FDE')).toBe('9000');
    const fcp = fromHex(send(c, '00A40004026F0100'));
    expect(decodeFcp(fcp.subarray(0, -2))).toMatchObject({ recordLength: 34, recordCount: 8 });
    expect(send(c, '00B2010422')).toBe('6982');
    const rec = toHex(proprietaryTerminalIdCodec.encode('pi-kitchen', 34));
    expect(send(c, `00DC010422${rec}`)).toBe('6982');
    send(c, `0020000108${PIN_1234}`);
    expect(send(c, '00B2010422')).toBe(`${'FF'.repeat(34)}9000`);
    expect(send(c, `00DC010422${rec}`)).toBe('9000');
    expect(send(c, '00B2010422')).toBe(`${rec}9000`);
    expect(send(c, `00DC01041F${rec.slice(0, 62)}`)).toBe('6700'); // records are written whole
    expect(send(c, '00B2090422')).toBe('6A83');
  });

  it('STATUS (CLA 80) returns the FCP of the current DF without changing the selection', () => {
    const c = card();
    send(c, '00A4000C027F20');
    send(c, '00A4000C026F07');
    const r = fromHex(send(c, '80F2000000'));
    expect(decodeFcp(r.subarray(0, -2)).fid).toBe(0x7f20);
    send(c, `0020000108${PIN_1234}`);
    expect(send(c, '00B0000009').slice(-4)).toBe('9000'); // EF_IMSI is still the current EF
  });

  it('SELECT by path from the MF (P1 = 08), including 7FFF for the active ADF', () => {
    const c = card();
    const r = fromHex(send(c, '00A40804047F106F3A00'));
    expect(decodeFcp(r.subarray(0, -2)).fid).toBe(0x6f3a);
    expect(swOf(c, '00A40804047F106F3B00')).toBe('6A82');
    expect(swOf(c, '00A40804047FFF6F0700')).toBe('6A82');
    send(c, `00A4040C10${AID}`);
    expect(swOf(c, '00A40804047FFF6F0700')).toBe('9000');
  });

  it('has no terminal-ID file when the profile says so', () => {
    expect(swOf(card({ terminalIdFile: false }), '00A4000C027FDE')).toBe('6A82');
  });

  it('EF_ICCID and EF_IMSI cannot be updated even after PIN1 (ADM)', () => {
    const c = card();
    send(c, `0020000108${PIN_1234}`);
    send(c, '00A4000C022FE2');
    expect(send(c, `00D600000A${'00'.repeat(10)}`)).toBe('6982');
  });

  it('file-access errors: wrong structure 6981, no EF 6986, bad offset 6B00, bad mode 6A86, record 0 6A83', () => {
    const c = card();
    expect(send(c, '00B0000001')).toBe('6986');
    send(c, '00A4000C022F00');
    expect(send(c, '00B0000001')).toBe('6981');
    expect(send(c, '00B2000420')).toBe('6A83');
    expect(send(c, '00B2010220')).toBe('6A86');
    send(c, '00A4000C022FE2');
    expect(send(c, '00B0000A01')).toBe('6B00');
    expect(send(c, '00B0800001')).toBe('6B00');
    expect(send(c, '00A4000C')).toBe('6700');
    expect(send(c, '00A400FF023F00')).toBe('6A86');
    expect(send(c, '00A4000C022FE3')).toBe('6A82');
  });
});

describe('VirtualUicc 2G (CLA A0, TS 51.011)', () => {
  it('SELECT answers 9Fxx and GET RESPONSE returns the GSM response (TS 51.011 §9.2.1)', () => {
    const c = card();
    expect(send(c, 'A0A40000027F20')).toBe('9F17');
    const r = fromHex(send(c, 'A0C0000017'));
    expect(decodeGsmResponse(r.subarray(0, -2))).toMatchObject({
      fid: 0x7f20,
      type: 'df',
      pin1RetriesLeft: 3,
    });
    expect(send(c, 'A0A40000026F07')).toBe('9F0F');
    // Size 0009, FID 6F07, type EF, READ CHV1 / UPDATE ADM (1E), transparent (00).
    expect(send(c, 'A0C000000F')).toBe('000000096F0704001EEEEE010200009000');
  });

  it('STATUS (TS 51.011 §9.2.2) returns the GSM response of the current DF', () => {
    const c = card();
    send(c, 'A0A40000027F10');
    const r = fromHex(send(c, 'A0F2000017'));
    expect(decodeGsmResponse(r.subarray(0, -2))).toMatchObject({ fid: 0x7f10, type: 'df' });
  });

  it('byte 19 of the MF response counts false CHV1 presentations remaining', () => {
    const c = card();
    send(c, `A020000108${PIN_0000}`);
    send(c, 'A0A40000023F00');
    const r = fromHex(send(c, 'A0C0000017'));
    expect(r[18]! & 0x0f).toBe(2);
    expect(r[19]! & 0x0f).toBe(10);
  });

  it('IMSI unreadable before CHV1 (9804), readable after', () => {
    const c = card();
    send(c, 'A0A40000027F20');
    send(c, 'A0A40000026F07');
    expect(send(c, 'A0B0000009')).toBe('9804');
    expect(send(c, `A020000108${PIN_1234}`)).toBe('9000');
    expect(send(c, 'A0B0000009')).toBe('0809101000000010209000');
  });

  it('wrong CHV1 answers 9804 twice, then 9840 (blocked); UNBLOCK CHV1 (P2 = 00) restores it', () => {
    const c = card();
    expect(send(c, `A020000108${PIN_0000}`)).toBe('9804');
    expect(send(c, `A020000108${PIN_0000}`)).toBe('9804');
    expect(send(c, `A020000108${PIN_0000}`)).toBe('9840');
    expect(send(c, `A020000108${PIN_1234}`)).toBe('9840');
    expect(send(c, `A02C000010${'3939393939393939'}${PIN_5555}`)).toBe('9804');
    expect(send(c, `A02C000010${PUK}${PIN_5555}`)).toBe('9000');
    expect(send(c, `A020000108${PIN_5555}`)).toBe('9000');
  });

  it('2G errors: file not found 9404, no EF 9400, record out of range 9402, P1 ≠ 0 6B00, P3 ≠ 2 6700', () => {
    const c = card();
    expect(send(c, 'A0A40000026F3A')).toBe('9404'); // EF_ADN is not a child of the MF
    expect(send(c, 'A0B0000001')).toBe('9400');
    send(c, 'A0A40000027F10');
    send(c, 'A0A40000026F3A');
    send(c, `A020000108${PIN_1234}`);
    expect(send(c, 'A0B215041C')).toBe('9402');
    expect(send(c, 'A0B0000001')).toBe('9408');
    expect(send(c, 'A0A40100023F00')).toBe('6B00');
    expect(send(c, 'A0A40000033F0000')).toBe('6700');
  });

  it('2G and 3G give the same ICCID and IMSI bytes', () => {
    const c = card();
    send(c, `0020000108${PIN_1234}`);
    send(c, 'A0A40000022FE2');
    const iccid2g = send(c, 'A0B000000A');
    send(c, '00A4000C022FE2');
    expect(send(c, '00B000000A')).toBe(iccid2g);
    send(c, 'A0A40000027F20');
    send(c, 'A0A40000026F07');
    const imsi2g = send(c, 'A0B0000009');
    send(c, `00A4040C10${AID}`);
    send(c, '00A4000C026F07');
    expect(send(c, '00B0000009')).toBe(imsi2g);
  });
});

describe('VirtualUicc modes', () => {
  it('classes usim-only: CLA A0 is refused with 6E00', () => {
    const c = card({ classes: 'usim-only' });
    expect(send(c, 'A0A40000023F00')).toBe('6E00');
    expect(swOf(c, '00A4000C023F00')).toBe('9000');
  });

  it('classes sim-only: CLA 00 and 80 are refused with 6E00', () => {
    const c = card({ classes: 'sim-only' });
    expect(send(c, '00A4000C023F00')).toBe('6E00');
    expect(send(c, '80F2000000')).toBe('6E00');
    expect(send(c, 'A0A40000023F00')).toBe('9F17');
  });

  it('t0GetResponse: case-4 SELECT answers 61xx and the FCP follows via GET RESPONSE', () => {
    const c = card({ t0GetResponse: true });
    const sw = send(c, '00A40004023F0000');
    expect(sw).toMatch(/^61/);
    const n = Number.parseInt(sw.slice(2), 16);
    const r = fromHex(send(c, `00C00000${sw.slice(2)}`));
    expect(r.length).toBe(n + 2);
    expect(decodeFcp(r.subarray(0, -2)).fid).toBe(0x3f00);
    expect(send(c, '00C0000001')).toBe('6985'); // nothing left waiting
  });

  it('without t0GetResponse a case-3 SELECT still parks its FCP behind 61xx', () => {
    const c = card();
    expect(send(c, '00A40004023F00')).toMatch(/^61/);
  });

  it('GET RESPONSE with a short Le leaves the rest waiting behind 61xx (3G)', () => {
    const c = card({ t0GetResponse: true });
    const n = Number.parseInt(send(c, '00A40004022FE200').slice(2), 16);
    const first = send(c, '00C0000004');
    expect(first.slice(-4)).toBe(`61${(n - 4).toString(16).toUpperCase().padStart(2, '0')}`);
  });

  it('any other command discards a waiting response', () => {
    const c = card({ t0GetResponse: true });
    send(c, '00A40004023F0000');
    send(c, '00200001');
    expect(send(c, '00C0000005')).toBe('6985');
  });

  it('strictLe: READ BINARY with Le beyond the data answers 6Cxx (3G) / 67xx (2G)', () => {
    const c = card({ strictLe: true });
    send(c, '00A4000C022FE2');
    expect(send(c, '00B0000000')).toBe('6C0A');
    expect(send(c, '00B0000005')).toBe('98881201009000');
    send(c, 'A0A40000022FE2');
    expect(send(c, 'A0B0000000')).toBe('670A');
  });

  it('strictLe: READ RECORD needs Le = record length (6C1C); GET RESPONSE a Le within the data', () => {
    const c = card({ strictLe: true, t0GetResponse: true });
    send(c, `0020000108${PIN_1234}`);
    send(c, '00A4000C027F10');
    send(c, '00A4000C026F3A');
    expect(send(c, '00B2010400')).toBe('6C1C');
    expect(send(c, '00B2010410')).toBe('6C1C');
    expect(send(c, '00B201041C')).toBe(`${'FF'.repeat(28)}9000`);
    const sw = send(c, '00A40004023F0000');
    expect(send(c, '00C00000FF')).toBe(`6C${sw.slice(2)}`);
    expect(send(c, `00C00000${sw.slice(2)}`).slice(-4)).toBe('9000');
  });

  it('lenient Le (default): returns what there is', () => {
    const c = card();
    send(c, '00A4000C022FE2');
    expect(send(c, '00B0000000')).toBe('988812010000400310F09000');
    expect(send(c, '00B0000003')).toBe('9888129000');
  });
});

describe('VirtualUicc profile options modelled on real cards (issue 14)', () => {
  const fcpOf = (r: string) => decodeFcp(fromHex(r).subarray(0, -2));

  it('adfFcpWithoutFileId: SELECT ADF_USIM answers sysmoISIM-SJA2’s FCP, with 84 and no 83', () => {
    const c = card({ adfFcpWithoutFileId: true, pin1Enabled: false });
    const r = send(c, `00A4040410${AID}00`);
    expect(r).toBe(
      '6238820278218410A0000000871002FFFFFFFF8907090000A509800171830400018D088A01058C0100C60F90017083010183018183010A83010B9000',
    );
    expect(fcpOf(r)).toMatchObject({ fid: 0x7fff, type: 'adf', pin1Enabled: false });
    expect(fcpOf(send(c, '00A40004023F0000'))).toMatchObject({ fid: 0x3f00, pin1Enabled: false });
  });

  it('pin1Enabled false, 3G: PS_DO bit clear, EF_IMSI readable without PIN, VERIFY status still 63C3, VERIFY 6984', () => {
    const c = card({ pin1Enabled: false, classes: 'usim-only' });
    expect(fcpOf(send(c, `00A4040410${AID}00`))).toMatchObject({ type: 'adf', pin1Enabled: false });
    expect(swOf(c, '00A4000C026F07')).toBe('9000');
    expect(send(c, '00B0000009')).toBe('0809101000000010209000');
    expect(send(c, '00200001')).toBe('63C3');
    expect(send(c, `0020000108${PIN_0000}`)).toBe('6984');
    expect(c.snapshot()).toMatchObject({ pinEnabled: false, pinRetriesLeft: 3 });
  });

  it('pin1Enabled false, 2G (TS 51.011 §9.2.1, §9.2.9): byte 14 b8 set, VERIFY CHV1 9808 with no try spent, IMSI readable', () => {
    const c = card({ pin1Enabled: false, classes: 'sim-only' });
    expect(swOf(c, 'A0A40000023F00')).toBe('9F17');
    const mf = decodeGsmResponse(fromHex(send(c, 'A0C0000017')).subarray(0, -2));
    expect(mf).toMatchObject({ pin1Enabled: false, pin1RetriesLeft: 3, pukRetriesLeft: 10 });
    expect(send(c, `A020000108${PIN_0000}`)).toBe('9808');
    expect(c.snapshot().pinRetriesLeft).toBe(3);
    expect(swOf(c, 'A0A40000027F20')).toBe('9F17');
    expect(swOf(c, 'A0A40000026F07')).toBe('9F0F');
    expect(send(c, 'A0B0000009')).toBe('0809101000000010209000');
  });

  it('usim-only with the SJA2 FCP: every CLA A0 command is 6E00 (a USIM-only card, eSIM profiles too)', () => {
    const c = card({ classes: 'usim-only', adfFcpWithoutFileId: true });
    for (const apdu of ['A0A40000023F00', 'A0F2000016', `A020000108${PIN_1234}`])
      expect(send(c, apdu)).toBe('6E00');
  });
});

describe('VirtualUicc EEPROM and RAM across power cycles', () => {
  it('PIN counters and files persist; selection and PIN-verified do not', () => {
    const c = card();
    send(c, `0020000108${PIN_0000}`);
    send(c, `0020000108${PIN_1234}`);
    send(c, '00A4000C027FDE');
    send(c, '00A4000C026F01');
    const rec = toHex(proprietaryTerminalIdCodec.encode('T1', 34));
    send(c, `00DC010422${rec}`);
    send(c, `0020000108${PIN_0000}`);
    c.powerOff();
    expect(send(c, '00B2010422')).toBe('6F00'); // an unpowered card answers nothing useful
    c.powerOn();
    expect(send(c, '00B2010422')).toBe('6986'); // MF selected, no current EF
    expect(send(c, '00200001')).toBe('63C2');
    expect(c.snapshot().terminalIdRecords?.[0]).toEqual(fromHex(rec));
  });
});

describe('VirtualUicc on garbage', () => {
  const cases: [string, string, string][] = [
    ['nothing', '', '6700'],
    ['a lone CLA', '00', '6700'],
    ['an unknown class', 'FFA40000023F00', '6E00'],
    ['an unknown instruction', '00FF0000', '6D00'],
    ['STATUS without CLA 80', '00F2000000', '6D00'],
    ['CLA 80 with a non-STATUS instruction', '80B0000001', '6D00'],
    ['Lc longer than the body', '00A40004053F00', '6700'],
    ['Lc shorter than the body', '00A40004013F0000FF', '6700'],
    ['GET RESPONSE with nothing waiting (2G)', 'A0C000000F', '6F00'],
    ['VERIFY with a 4-byte PIN block', '002000010431323334', '6700'],
    ['VERIFY of an unknown key reference', `0020000208${PIN_1234}`, '6A88'],
  ];
  for (const [name, hex, expected] of cases) {
    it(`answers ${name} with ${expected}`, () => {
      expect(send(card(), hex)).toBe(expected);
    });
  }
});
