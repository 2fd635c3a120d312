import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './hex.js';
import { parseResponse } from './response.js';
import { describeSw, pendingResponseLength, retriesFromSw } from './status-words.js';

describe('status words (ISO 7816-4 §5.6, TS 102 221 §10.2, TS 51.011 §9.4)', () => {
  it('names every status word the layer relies on', () => {
    const known = [
      0x9000, 0x6982, 0x6983, 0x6984, 0x6a82, 0x6a83, 0x6b00, 0x6d00, 0x6e00, 0x6700, 0x6a86, 0x9804, 0x9840,
      0x9808, 0x9404, 0x9400, 0x9802, 0x6581,
    ];
    for (const sw of known) expect(describeSw(sw), sw.toString(16)).not.toBe('unknown status word');
    expect(describeSw(0x6982)).toMatch(/PIN required/);
    expect(describeSw(0x9840)).toMatch(/blocked/);
  });

  it('reads lengths from 61xx / 9Fxx / 6Cxx and tries from 63Cx', () => {
    expect(pendingResponseLength(0x6120)).toBe(32);
    expect(pendingResponseLength(0x9f17)).toBe(23);
    expect(pendingResponseLength(0x6100)).toBe(256);
    expect(pendingResponseLength(0x9000)).toBeUndefined();
    expect(describeSw(0x6c09)).toMatch(/exact length is 9/);
    expect(retriesFromSw(0x63c2)).toBe(2);
    expect(retriesFromSw(0x63c0)).toBe(0);
    expect(retriesFromSw(0x6983)).toBeUndefined();
    expect(describeSw(0x63c1)).toMatch(/1 retries left/);
  });

  it('splits a response into data and SW1 SW2, refusing one shorter than 2 bytes', () => {
    const r = parseResponse(fromHex('0809101000000010209000'));
    expect(toHex(r.data)).toBe('080910100000001020');
    expect(r.sw).toBe(0x9000);
    expect(() => parseResponse(fromHex('90'))).toThrow(expect.objectContaining({ kind: 'bad-response' }));
  });
});
