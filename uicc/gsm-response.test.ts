import { describe, expect, it } from 'vitest';
import { decodeGsmResponse, encodeGsmDfResponse, encodeGsmEfResponse } from './gsm-response.js';
import { fromHex, toHex } from './hex.js';

describe('2G SELECT/STATUS response (TS 51.011 §9.2.1)', () => {
  it('carries CHV1 and UNBLOCK CHV1 tries in bytes 19–20 (b4..b1)', () => {
    const r = encodeGsmDfResponse({
      fid: 0x3f00,
      isMf: true,
      freeMemory: 0x1000,
      childDfs: 3,
      childEfs: 2,
      chv1Enabled: true,
      chv1RetriesLeft: 2,
      pukRetriesLeft: 10,
    });
    expect(toHex(r)).toBe('000010003F000100000000000A0103020300828A000000');
    expect(r[18]! & 0x0f).toBe(2);
    expect(decodeGsmResponse(r)).toMatchObject({
      fid: 0x3f00,
      type: 'mf',
      pin1Enabled: true,
      pin1RetriesLeft: 2,
      pukRetriesLeft: 10,
    });
  });

  it('§9.2.1: a real sysmoSIM-GR1 MF response (pySim card backup): byte 14 = 93, b8 set → CHV1 disabled; 3 and 10 tries', () => {
    // osmocom/pysim tests/card_sanitizer/card_backup_3b991800118822334455667760_2222334455667788990.script
    const r = fromHex('0000125C3F000100000000000A9303020C00838A838A00');
    expect(decodeGsmResponse(r)).toMatchObject({
      fid: 0x3f00,
      type: 'mf',
      size: 4700,
      pin1Enabled: false,
      pin1RetriesLeft: 3,
      pukRetriesLeft: 10,
    });
  });

  it('decodes a linear-fixed EF: size, record length (byte 15) and the derived record count', () => {
    const r = encodeGsmEfResponse({
      fid: 0x6f3a,
      structure: 'linear-fixed',
      size: 560,
      recordLength: 28,
      read: 'pin1',
      update: 'pin1',
    });
    // Bytes 9: READ=CHV1 (1) UPDATE=CHV1 (1); byte 14: structure 01; byte 15: record length 1C.
    expect(toHex(r)).toBe('000002306F3A040011EEEE0102011C');
    expect(decodeGsmResponse(r)).toEqual({
      fid: 0x6f3a,
      type: 'ef',
      structure: 'linear-fixed',
      size: 560,
      recordLength: 28,
      recordCount: 20,
    });
  });

  it("rejects a response too short to hold its header, or with an unknown file type ('bad-response')", () => {
    for (const hex of ['00003F00', '000010003F000300000000000A', '000002306F3A0400110000010205']) {
      expect(() => decodeGsmResponse(fromHex(hex)), hex).toThrow(
        expect.objectContaining({ kind: 'bad-response' }),
      );
    }
  });
});
