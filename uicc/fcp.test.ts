import { describe, expect, it } from 'vitest';
import { decodeFcp, encodeFcp } from './fcp.js';
import { fromHex, toHex } from './hex.js';
import { parseTlvs } from './tlv.js';

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

  it("rejects a non-FCP or truncated template with 'bad-response'", () => {
    for (const hex of ['6F03820178', '6205820178', '62038201', '6204 8302 3F00']) {
      expect(() => decodeFcp(fromHex(hex)), hex).toThrow(expect.objectContaining({ kind: 'bad-response' }));
    }
  });
});
