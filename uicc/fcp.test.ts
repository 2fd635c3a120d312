import { describe, expect, it } from 'vitest';
import { decodeFcp, encodeFcp } from './fcp.js';
import { fromHex, toHex } from './hex.js';
import { parseTlvs } from './tlv.js';
import { encodeSja2AdfFcp } from './virtual-adf-fcp.js';

/**
 * Real FCPs from osmocom/pysim tests/card_sanitizer (card backups made with
 * pySim-shell): sysmoISIM-SJA2 (ICCID 8988211000000467343) and
 * sysmoISIM-SJA5-S17 (ICCID 8949440000001155314).
 */
const SJA2_ADF_USIM =
  '6238820278218410A0000000871002FFFFFFFF8907090000A509800171830400018D088A01058C0100C60F90017083010183018183010A83010B';
const SJA2_MF =
  '622D8202782183023F00A509800171830400018D088A01058C04261A0000C60F90017083010183018183010A83010B';
const SJA5_ADF_USIM =
  '623E820278218410A0000000871002FFFFFFFF8907090000A50C8001718304000564508701018A01058C04261A0000C60F90017083010183018183010A83010B';

describe('FCP template (TS 102 221 §11.1.1.3)', () => {
  it('encodes a linear-fixed EF: descriptor 42 21 with record length and count, FID, size', () => {
    const fcp = encodeFcp({
      kind: 'ef',
      fid: 0x6f3a,
      structure: 'linear-fixed',
      size: 20 * 28,
      recordLength: 28,
      read: 'pin1',
      update: 'pin1',
    });
    expect(toHex(fcp)).toBe('621782054221001C1483026F3A8A01058C0303111180020230');
    expect(decodeFcp(fcp)).toMatchObject({
      fid: 0x6f3a,
      type: 'ef',
      structure: 'linear-fixed',
      size: 560,
      recordLength: 28,
      recordCount: 20,
    });
  });

  it('encodes a transparent EF with its size in tag 80', () => {
    const fcp = encodeFcp({
      kind: 'ef',
      fid: 0x6f07,
      structure: 'transparent',
      size: 9,
      recordLength: 0,
      read: 'pin1',
      update: 'never',
    });
    expect(decodeFcp(fcp)).toEqual({ fid: 0x6f07, type: 'ef', structure: 'transparent', size: 9 });
  });

  it('encodes an ADF with its AID (84) and the PIN status template C6 with PIN1 enabled', () => {
    const aid = fromHex('A0000000871002FFFFFFFF8907090000');
    const fcp = encodeFcp({ kind: 'df', fid: 0x7fff, aid, pin1Enabled: true });
    const inner = parseTlvs(parseTlvs(fcp)[0]!.value);
    expect(toHex(inner.find((t) => t.tag === 0xc6)!.value)).toBe('900180950108830101');
    const info = decodeFcp(fcp);
    expect(info).toMatchObject({ fid: 0x7fff, type: 'adf', pin1Enabled: true });
    expect(toHex(info.aid!)).toBe(toHex(aid));
  });

  it('decodes the MF of a real-world-shaped FCP and reads PS_DO for PIN1', () => {
    // C6: PS_DO 40 sets b7 only, i.e. the second listed key (81) is enabled and PIN1 (01) is not.
    const mf = fromHex(
      '6220 8202 7821 8302 3F00 A503 800171 8A01 05 8B03 2F0601 C609 9001 40 8301 01 8301 81',
    );
    expect(decodeFcp(mf)).toMatchObject({ fid: 0x3f00, type: 'mf', pin1Enabled: false });
  });

  it('§11.1.1.3: decodes sysmoISIM-SJA2 ADF_USIM (84, no 83) as the current ADF 7FFF, PIN1 disabled (PS_DO 70)', () => {
    const info = decodeFcp(fromHex(SJA2_ADF_USIM));
    expect(info).toMatchObject({ fid: 0x7fff, type: 'adf', pin1Enabled: false });
    expect(toHex(info.aid!)).toBe('A0000000871002FFFFFFFF8907090000');
  });

  it('decodes sysmoISIM-SJA5 ADF_USIM (84, no 83, 4-byte 8C) and the SJA2 MF, whose A5 holds an 83 of its own', () => {
    expect(decodeFcp(fromHex(SJA5_ADF_USIM))).toMatchObject({ fid: 0x7fff, type: 'adf', pin1Enabled: false });
    expect(decodeFcp(fromHex(SJA2_MF))).toMatchObject({ fid: 0x3f00, type: 'mf', pin1Enabled: false });
  });

  it('the virtual card’s SJA2-shaped ADF FCP is byte for byte the real one (PIN1 disabled), F0 with PIN1 enabled', () => {
    const aid = fromHex('A0000000871002FFFFFFFF8907090000');
    expect(toHex(encodeSja2AdfFcp(aid, false))).toBe(SJA2_ADF_USIM);
    expect(decodeFcp(encodeSja2AdfFcp(aid, true))).toMatchObject({ type: 'adf', pin1Enabled: true });
  });

  it("rejects a non-FCP or truncated template with 'bad-response'", () => {
    // The last two: a DF with neither 83 nor 84, and an EF without 83.
    for (const hex of [
      '6F03820178',
      '6205820178',
      '62038201',
      '6204 8302 3F00',
      '6207 8202 7821 8A01 05',
      '620C 8202 4121 8A01 05 8002 0009',
    ]) {
      expect(() => decodeFcp(fromHex(hex)), hex).toThrow(expect.objectContaining({ kind: 'bad-response' }));
    }
  });
});
