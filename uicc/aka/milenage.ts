import { UiccError } from '../errors.js';
import { concatBytes } from '../hex.js';
import { Aes128 } from './aes128.js';

/**
 * Milenage (TS 35.205 / 35.206), the example 3GPP authentication and key
 * generation functions f1, f1*, f2, f3, f4, f5, f5* on the AES-128 kernel,
 * with the rotation and constant values of TS 35.206 §4.1 (r1 = 64, r2 = 0,
 * r3 = 32, r4 = 64, r5 = 96 bits; c1 = 0, c2 = …01, c3 = …02, c4 = …04,
 * c5 = …08). Lengths (TS 33.102 §6.3.7): K, OP(c), RAND, CK, IK 16 bytes;
 * SQN, AK 6; AMF 2; MAC-A, MAC-S 8; RES 8 (f2's full 64 bits).
 */

export const KEY_BYTES = 16;
export const RAND_BYTES = 16;
export const SQN_BYTES = 6;
export const AMF_BYTES = 2;
export const MAC_BYTES = 8;
export const AUTN_BYTES = SQN_BYTES + AMF_BYTES + MAC_BYTES;

function need(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new UiccError('bad-argument', `${name} is ${length} bytes, not ${bytes.length}`);
  }
}

export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Cyclic left rotation of a 128-bit block by a whole number of bytes (TS 35.206 §4.1 "rot"). */
function rotate(x: Uint8Array, bytes: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = x[(i + bytes) % 16]!;
  return out;
}

/** c1..c5 of TS 35.206 §4.1: 128-bit constants whose last byte is 00, 01, 02, 04, 08. */
function constant(last: number): Uint8Array {
  const c = new Uint8Array(16);
  c[15] = last;
  return c;
}

const C1 = constant(0x00);
const C2 = constant(0x01);
const C3 = constant(0x02);
const C4 = constant(0x04);
const C5 = constant(0x08);

/** OPc = OP ⊕ E_K(OP) (TS 35.206 §4.1). Throws 'bad-argument' unless K and OP are 16 bytes. */
export function opcOf(k: Uint8Array, op: Uint8Array): Uint8Array {
  need('K', k, KEY_BYTES);
  need('OP', op, KEY_BYTES);
  return xorBytes(new Aes128(k).encrypt(op), op);
}

/** What f2–f5 give for one RAND (TS 35.206 §4.1, OUT2..OUT4). */
export interface F2345 {
  /** f2: RES (XRES on the network side), 8 bytes. */
  readonly res: Uint8Array;
  /** f3: the cipher key CK, 16 bytes. */
  readonly ck: Uint8Array;
  /** f4: the integrity key IK, 16 bytes. */
  readonly ik: Uint8Array;
  /** f5: the anonymity key AK that conceals SQN in AUTN, 6 bytes. */
  readonly ak: Uint8Array;
}

/**
 * The Milenage functions for one subscriber key K and its OPc. Pure: every
 * call computes from its arguments; nothing is cached but the expanded key.
 */
export class Milenage {
  readonly #aes: Aes128;
  readonly #opc: Uint8Array;

  /** Throws UiccError 'bad-argument' unless K and OPc are 16 bytes. */
  constructor(k: Uint8Array, opc: Uint8Array) {
    need('K', k, KEY_BYTES);
    need('OPc', opc, KEY_BYTES);
    this.#aes = new Aes128(k);
    this.#opc = opc.slice();
  }

  /** For an operator that provisions OP rather than OPc: OPc is derived (opcOf). */
  static fromOp(k: Uint8Array, op: Uint8Array): Milenage {
    return new Milenage(k, opcOf(k, op));
  }

  /** TEMP = E_K(RAND ⊕ OPc). */
  #temp(rand: Uint8Array): Uint8Array {
    need('RAND', rand, RAND_BYTES);
    return this.#aes.encrypt(xorBytes(rand, this.#opc));
  }

  /** OUTn = E_K(rot(TEMP ⊕ OPc, r) ⊕ c) ⊕ OPc, for n = 2..5. */
  #out(temp: Uint8Array, rotateBytes: number, c: Uint8Array): Uint8Array {
    const block = xorBytes(rotate(xorBytes(temp, this.#opc), rotateBytes), c);
    return xorBytes(this.#aes.encrypt(block), this.#opc);
  }

  /** OUT1: IN1 = SQN ‖ AMF ‖ SQN ‖ AMF; OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc. */
  #out1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Uint8Array {
    need('SQN', sqn, SQN_BYTES);
    need('AMF', amf, AMF_BYTES);
    const temp = this.#temp(rand);
    const in1 = concatBytes(sqn, amf, sqn, amf);
    const block = xorBytes(xorBytes(temp, rotate(xorBytes(in1, this.#opc), 8)), C1);
    return xorBytes(this.#aes.encrypt(block), this.#opc);
  }

  /** f1: the network authentication code MAC-A (XMAC-A on the card), OUT1[0..63]. */
  f1(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Uint8Array {
    return this.#out1(rand, sqn, amf).slice(0, 8);
  }

  /** f1*: the resynchronisation code MAC-S, OUT1[64..127]. */
  f1star(rand: Uint8Array, sqn: Uint8Array, amf: Uint8Array): Uint8Array {
    return this.#out1(rand, sqn, amf).slice(8, 16);
  }

  /** f2 (RES = OUT2[64..127]), f3 (CK = OUT3), f4 (IK = OUT4), f5 (AK = OUT2[0..47]). */
  f2345(rand: Uint8Array): F2345 {
    const temp = this.#temp(rand);
    const out2 = this.#out(temp, 0, C2);
    return {
      res: out2.slice(8, 16),
      ck: this.#out(temp, 4, C3),
      ik: this.#out(temp, 8, C4),
      ak: out2.slice(0, 6),
    };
  }

  /** f5*: the anonymity key AK* that conceals SQN_MS in AUTS, OUT5[0..47]. */
  f5star(rand: Uint8Array): Uint8Array {
    return this.#out(this.#temp(rand), 12, C5).slice(0, 6);
  }
}

/**
 * c2 of TS 33.102 §6.8.1.2: SRES from a 64-bit RES, SRES = RES[0..3] ⊕
 * RES[4..7] (a 32-bit RES is SRES itself). Other lengths are 'bad-argument'.
 */
export function gsmSres(res: Uint8Array): Uint8Array {
  if (res.length === 4) return res.slice();
  need('RES (for c2)', res, 8);
  return xorBytes(res.subarray(0, 4), res.subarray(4, 8));
}

/** c3 of TS 33.102 §6.8.1.2: Kc = CK1 ⊕ CK2 ⊕ IK1 ⊕ IK2, the 8-byte halves of CK and IK. */
export function gsmKc(ck: Uint8Array, ik: Uint8Array): Uint8Array {
  need('CK', ck, KEY_BYTES);
  need('IK', ik, KEY_BYTES);
  return xorBytes(
    xorBytes(ck.subarray(0, 8), ck.subarray(8, 16)),
    xorBytes(ik.subarray(0, 8), ik.subarray(8, 16)),
  );
}

/** The three fields of AUTN (TS 33.102 §6.3.2). */
export interface AutnFields {
  /** SQN ⊕ AK (SQN itself when the operator does not conceal it: AK = 0). */
  readonly concealedSqn: Uint8Array;
  readonly amf: Uint8Array;
  readonly mac: Uint8Array;
}

/** AUTN = SQN ⊕ AK ‖ AMF ‖ MAC-A (TS 33.102 §6.3.2), 16 bytes. */
export function buildAutn(sqn: Uint8Array, ak: Uint8Array, amf: Uint8Array, macA: Uint8Array): Uint8Array {
  need('SQN', sqn, SQN_BYTES);
  need('AK', ak, SQN_BYTES);
  need('AMF', amf, AMF_BYTES);
  need('MAC-A', macA, MAC_BYTES);
  return concatBytes(xorBytes(sqn, ak), amf, macA);
}

/** The fields of a 16-byte AUTN; 'bad-argument' for any other length. */
export function parseAutn(autn: Uint8Array): AutnFields {
  need('AUTN', autn, AUTN_BYTES);
  return {
    concealedSqn: autn.slice(0, SQN_BYTES),
    amf: autn.slice(SQN_BYTES, SQN_BYTES + AMF_BYTES),
    mac: autn.slice(SQN_BYTES + AMF_BYTES),
  };
}

/** Compares two MACs without stopping at the first difference. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
