import { buildAutn, type Milenage, macEqual, parseAutn, xorBytes } from './milenage.js';
import { buildAuts, sqnFromBytes, sqnToBytes, type UsimSqnArray } from './sqn.js';

/**
 * One run of UMTS AKA (TS 33.102 §6.3) from both ends: the HE/AuC builds an
 * authentication vector (§6.3.2), the USIM answers its RAND ‖ AUTN (§6.3.3).
 */

/** AMF of the vectors by default: the separation bit (bit 0) set, as TS 33.102 Annex H and EPS networks use. */
export const DEFAULT_AMF = Uint8Array.of(0x80, 0x00);

/** An authentication vector (TS 33.102 §6.3.2): the challenge and what the network expects back. */
export interface AuthVector {
  readonly rand: Uint8Array;
  readonly autn: Uint8Array;
  readonly xres: Uint8Array;
  readonly ck: Uint8Array;
  readonly ik: Uint8Array;
  /** The SQN concealed in AUTN. */
  readonly sqn: number;
}

/**
 * The HE/AuC's vector for `rand` (16 random bytes from the caller) and `sqn`
 * (from AucSqn.next()): MAC = f1(SQN ‖ RAND ‖ AMF), XRES = f2, CK = f3,
 * IK = f4, AK = f5, AUTN = SQN ⊕ AK ‖ AMF ‖ MAC.
 */
export function generateVector(
  milenage: Milenage,
  rand: Uint8Array,
  sqn: number,
  amf = DEFAULT_AMF,
): AuthVector {
  const sqnBytes = sqnToBytes(sqn);
  const mac = milenage.f1(rand, sqnBytes, amf);
  const { res, ck, ik, ak } = milenage.f2345(rand);
  return { rand: rand.slice(), autn: buildAutn(sqnBytes, ak, amf, mac), xres: res, ck, ik, sqn };
}

/** The USIM's answer to a challenge; the same three outcomes AUTHENTICATE reports (TS 31.102 §7.1.2.1). */
export type ChallengeAnswer =
  | { status: 'ok'; res: Uint8Array; ck: Uint8Array; ik: Uint8Array }
  | { status: 'sync-failure'; auts: Uint8Array }
  | { status: 'mac-failure' };

/**
 * The USIM's side of §6.3.3: AK = f5(RAND), SQN = (SQN ⊕ AK) ⊕ AK, XMAC =
 * f1(SQN ‖ RAND ‖ AMF). A MAC that differs is 'mac-failure' and nothing
 * changes; an SQN out of range (Annex C.2.2) is 'sync-failure' with AUTS
 * over SQN_MS and nothing changes; else the SQN is accepted into `sqns` and
 * RES = f2, CK = f3, IK = f4 are returned. Throws 'bad-argument' for a RAND
 * or AUTN that is not 16 bytes.
 */
export function answerChallenge(
  milenage: Milenage,
  sqns: UsimSqnArray,
  rand: Uint8Array,
  autn: Uint8Array,
): ChallengeAnswer {
  const { concealedSqn, amf, mac } = parseAutn(autn);
  const { res, ck, ik, ak } = milenage.f2345(rand);
  const sqnBytes = xorBytes(concealedSqn, ak);
  if (!macEqual(milenage.f1(rand, sqnBytes, amf), mac)) return { status: 'mac-failure' };
  const sqn = sqnFromBytes(sqnBytes);
  if (sqns.verify(sqn) !== undefined)
    return { status: 'sync-failure', auts: buildAuts(milenage, rand, sqns.sqnMs) };
  sqns.accept(sqn);
  return { status: 'ok', res, ck, ik };
}

/** Whether a RES the card gave is the vector's XRES (TS 33.102 §6.3.3, the VLR/SGSN's comparison). */
export function resMatches(vector: AuthVector, res: Uint8Array): boolean {
  return macEqual(res, vector.xres);
}
