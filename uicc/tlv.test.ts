import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './hex.js';
import { encodeTlv, parseTlvs } from './tlv.js';

describe('BER-TLV (ISO 7816-4 §5.2)', () => {
  it('parses one-byte, two-byte (1F xx) tags and 81/82 long lengths', () => {
    const tlvs = parseTlvs(fromHex(`8302 3F00 5F2D 02 656E 53 81 80 ${'AA'.repeat(128)}`));
    expect(tlvs.map((t) => [t.tag.toString(16), t.value.length])).toEqual([
      ['83', 2],
      ['5f2d', 2],
      ['53', 128],
    ]);
  });

  it('encodes lengths of 128 and more in long form', () => {
    expect(toHex(encodeTlv(0x53, new Uint8Array(2)))).toBe('53020000');
    expect(toHex(encodeTlv(0x53, new Uint8Array(200)).subarray(0, 3))).toBe('5381C8');
    expect(toHex(encodeTlv(0x5f2d, new Uint8Array(300)).subarray(0, 5))).toBe('5F2D82012C');
  });

  it("rejects truncated tags, lengths and values and unsupported length forms ('bad-response')", () => {
    for (const hex of ['5F', '83', '8302 3F', '53 82 01', '53 84 00000001 00', '5FFFFFFF01 00']) {
      expect(() => parseTlvs(fromHex(hex)), hex).toThrow(expect.objectContaining({ kind: 'bad-response' }));
    }
  });
});
