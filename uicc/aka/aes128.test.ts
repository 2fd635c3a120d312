import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isUiccError } from '../errors.js';
import { fromHex, toHex } from '../hex.js';
import { Aes128, aes128Encrypt } from './aes128.js';

function nodeAes(key: Uint8Array, block: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
}

describe('AES-128 (FIPS-197), the Milenage kernel', () => {
  it('FIPS-197 Appendix C.1: AES-128 of 00112233…ff under 000102…0f', () => {
    const out = aes128Encrypt(
      fromHex('000102030405060708090a0b0c0d0e0f'),
      fromHex('00112233445566778899aabbccddeeff'),
    );
    expect(toHex(out)).toBe('69C4E0D86A7B0430D8CDB78070B4C55A');
  });

  it('FIPS-197 Appendix B: the cipher example', () => {
    const out = aes128Encrypt(
      fromHex('2b7e151628aed2a6abf7158809cf4f3c'),
      fromHex('3243f6a8885a308d313198a2e0370734'),
    );
    expect(toHex(out)).toBe('3925841D02DC09FBDC118597196A0B32');
  });

  it('TS 35.207 §4.3 Test Set 1: TEMP = E_K(RAND ⊕ OPc)', () => {
    // The intermediate value of the implementors' test data; RAND ⊕ OPc is 23553cbe… ⊕ cd63cb71….
    const k = fromHex('465b5ce8b199b49faa5f0a2ee238a6bc');
    const randXorOpc = fromHex('ee36f7cf037d37d3692f7f0399e7949a');
    expect(toHex(aes128Encrypt(k, randXorOpc))).toBe('9E2980C59739DA67B136355E3CEDE6A2');
  });

  it('matches node:crypto aes-128-ecb on 1000 random keys and blocks', () => {
    for (let i = 0; i < 1000; i++) {
      const key = new Uint8Array(randomBytes(16));
      const block = new Uint8Array(randomBytes(16));
      const ours = new Aes128(key).encrypt(block);
      expect(toHex(ours), `key ${toHex(key)} block ${toHex(block)}`).toBe(toHex(nodeAes(key, block)));
    }
  });

  it('refuses a key or block that is not 16 bytes, and never changes its input', () => {
    expect(() => new Aes128(new Uint8Array(15))).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
    const aes = new Aes128(new Uint8Array(16));
    try {
      aes.encrypt(new Uint8Array(17));
      expect.unreachable();
    } catch (e) {
      expect(isUiccError(e, 'bad-argument')).toBe(true);
    }
    const block = fromHex('00112233445566778899aabbccddeeff');
    aes.encrypt(block);
    expect(toHex(block)).toBe('00112233445566778899AABBCCDDEEFF');
  });
});
