/**
 * uicc/aka/: UMTS AKA (TS 33.102 §6.3) with Milenage (TS 35.205/35.206) and
 * the sequence numbers of Annex C, for both ends: the card (VirtualUicc) and
 * the network (the server checks a SIM's answer with the same code). Pure
 * and synchronous; the one part of uicc/ that broker/ may import.
 */
export { Aes128, aes128Encrypt } from './aes128.js';
export {
  type AuthVector,
  answerChallenge,
  type ChallengeAnswer,
  DEFAULT_AMF,
  generateVector,
  resMatches,
} from './challenge.js';
export {
  AMF_BYTES,
  AUTN_BYTES,
  type AutnFields,
  buildAutn,
  type F2345,
  gsmKc,
  gsmSres,
  KEY_BYTES,
  MAC_BYTES,
  Milenage,
  macEqual,
  opcOf,
  parseAutn,
  RAND_BYTES,
  SQN_BYTES,
} from './milenage.js';
export {
  AUTS_BYTES,
  AucSqn,
  type AucSqnState,
  type AutsResult,
  buildAuts,
  DELTA,
  IND_BITS,
  IND_COUNT,
  indOf,
  resyncFromAuts,
  SEQ_MAX,
  SQN_MAX,
  type SqnRefusal,
  seqOf,
  sqnFromBytes,
  sqnOf,
  sqnToBytes,
  UsimSqnArray,
  type UsimSqnOptions,
} from './sqn.js';
