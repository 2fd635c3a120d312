import { UiccError } from '../errors.js';

/**
 * AES-128 block encryption (FIPS-197), the kernel E_K of Milenage (TS 35.206
 * §2.3). Encryption only: Milenage never decrypts. Byte-oriented and
 * synchronous so it runs anywhere uicc/ does; a card does a handful of blocks
 * per AUTHENTICATE, so speed does not matter here.
 */

const BLOCK = 16;
const ROUNDS = 10;

/** x·{02} in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 §4.2.1). */
function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

/** The S-box of FIPS-197 §5.1.1: the multiplicative inverse followed by the affine transformation. */
function buildSbox(): Uint8Array {
  const sbox = new Uint8Array(256);
  // Walk p through every non-zero element as powers of the generator 3, q as its inverse (powers of 3^-1).
  let p = 1;
  let q = 1;
  do {
    p = p ^ xtime(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const rot = (x: number, n: number) => ((x << n) | (x >> (8 - n))) & 0xff;
    sbox[p] = q ^ rot(q, 1) ^ rot(q, 2) ^ rot(q, 3) ^ rot(q, 4) ^ 0x63;
  } while (p !== 1);
  sbox[0] = 0x63;
  return sbox;
}

const SBOX = buildSbox();

/** KeyExpansion (FIPS-197 §5.2): 11 round keys of 16 bytes, one after another. */
function expandKey(key: Uint8Array): Uint8Array {
  const w = new Uint8Array(BLOCK * (ROUNDS + 1));
  w.set(key);
  let rcon = 1;
  for (let i = BLOCK; i < w.length; i += 4) {
    let t0 = w[i - 4]!;
    let t1 = w[i - 3]!;
    let t2 = w[i - 2]!;
    let t3 = w[i - 1]!;
    if (i % BLOCK === 0) {
      // RotWord, SubWord, then Rcon on the first byte.
      const first = t0;
      t0 = SBOX[t1]! ^ rcon;
      t1 = SBOX[t2]!;
      t2 = SBOX[t3]!;
      t3 = SBOX[first]!;
      rcon = xtime(rcon);
    }
    w[i] = w[i - BLOCK]! ^ t0;
    w[i + 1] = w[i - BLOCK + 1]! ^ t1;
    w[i + 2] = w[i - BLOCK + 2]! ^ t2;
    w[i + 3] = w[i - BLOCK + 3]! ^ t3;
  }
  return w;
}

function addRoundKey(state: Uint8Array, w: Uint8Array, round: number): void {
  const at = round * BLOCK;
  for (let i = 0; i < BLOCK; i++) state[i]! ^= w[at + i]!;
}

/** SubBytes and ShiftRows together; the state is column-major (byte r + 4c is row r, column c). */
function subShift(state: Uint8Array): void {
  const s = state.slice();
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) state[r + 4 * c] = SBOX[s[r + 4 * ((c + r) % 4)]!]!;
  }
}

/** MixColumns (FIPS-197 §5.1.3). */
function mixColumns(state: Uint8Array): void {
  for (let c = 0; c < 16; c += 4) {
    const a0 = state[c]!;
    const a1 = state[c + 1]!;
    const a2 = state[c + 2]!;
    const a3 = state[c + 3]!;
    const all = a0 ^ a1 ^ a2 ^ a3;
    state[c] = a0 ^ all ^ xtime(a0 ^ a1);
    state[c + 1] = a1 ^ all ^ xtime(a1 ^ a2);
    state[c + 2] = a2 ^ all ^ xtime(a2 ^ a3);
    state[c + 3] = a3 ^ all ^ xtime(a3 ^ a0);
  }
}

/** An AES-128 key, expanded once, that encrypts 16-byte blocks. */
export class Aes128 {
  readonly #roundKeys: Uint8Array;

  /** Throws UiccError 'bad-argument' unless `key` is 16 bytes. */
  constructor(key: Uint8Array) {
    if (key.length !== BLOCK)
      throw new UiccError('bad-argument', `an AES-128 key is 16 bytes, not ${key.length}`);
    this.#roundKeys = expandKey(key);
  }

  /** The cipher of FIPS-197 §5.1 on one 16-byte block; returns a new array. */
  encrypt(block: Uint8Array): Uint8Array {
    if (block.length !== BLOCK) {
      throw new UiccError('bad-argument', `an AES block is 16 bytes, not ${block.length}`);
    }
    const state = block.slice();
    addRoundKey(state, this.#roundKeys, 0);
    for (let round = 1; round < ROUNDS; round++) {
      subShift(state);
      mixColumns(state);
      addRoundKey(state, this.#roundKeys, round);
    }
    subShift(state);
    addRoundKey(state, this.#roundKeys, ROUNDS);
    return state;
  }
}

/** E_K(block) with a key used once. */
export function aes128Encrypt(key: Uint8Array, block: Uint8Array): Uint8Array {
  return new Aes128(key).encrypt(block);
}
