import type { CommandApdu } from './apdu.js';
import { concatBytes } from './hex.js';
import { encodePinBlock } from './pin-block.js';

/**
 * 3G UICC/USIM commands, CLA 00 (TS 102 221 §10–11, profiled by TS 31.101;
 * file contents by TS 31.102). STATUS is the one command with CLA 80.
 */
export const CLA_USIM = 0x00;
export const CLA_USIM_PROPRIETARY = 0x80;

/** SELECT P2 (TS 102 221 §11.1.1.2): return the FCP template, or nothing. */
const P2_FCP = 0x04;
const P2_NO_DATA = 0x0c;
/** Key reference of PIN1 / its PUK in VERIFY and UNBLOCK PIN (TS 102 221 §9.5.1). */
const KEY_PIN1 = 0x01;
const MODE_ABSOLUTE = 0x04;
/** AUTHENTICATE P2 (TS 31.102 §7.1.2): b8 = 1 (specific reference data), context in b3..b1. */
const P2_AUTH_GSM = 0x80;
const P2_AUTH_3G = 0x81;
/** RAND and AUTN are each sent as a length byte then 16 bytes (TS 31.102 §7.1.2.1). */
const lv = (value: Uint8Array) => concatBytes(Uint8Array.of(value.length), value);

const fidBytes = (fid: number) => Uint8Array.of(fid >> 8, fid & 0xff);

export const usimCommands = {
  /** SELECT by file ID (P1 = 00); case 4 with Le = 00 so the FCP comes back (or 61xx on T=0). */
  select: (fid: number, fcp = true): CommandApdu =>
    fcp
      ? { cla: CLA_USIM, ins: 0xa4, p1: 0x00, p2: P2_FCP, data: fidBytes(fid), le: 256 }
      : { cla: CLA_USIM, ins: 0xa4, p1: 0x00, p2: P2_NO_DATA, data: fidBytes(fid) },
  /** SELECT by DF name (P1 = 04), i.e. an ADF by its AID (possibly a right-truncated prefix). */
  selectAid: (aid: Uint8Array): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0xa4,
    p1: 0x04,
    p2: P2_FCP,
    data: aid,
    le: 256,
  }),
  /** STATUS (TS 102 221 §11.1.2), P2 = 00: FCP of the current DF/ADF. */
  status: (): CommandApdu => ({ cla: CLA_USIM_PROPRIETARY, ins: 0xf2, p1: 0, p2: 0, le: 256 }),
  readBinary: (offset: number, le: number): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0xb0,
    p1: offset >> 8,
    p2: offset & 0xff,
    le,
  }),
  updateBinary: (offset: number, data: Uint8Array): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0xd6,
    p1: offset >> 8,
    p2: offset & 0xff,
    data,
  }),
  readRecord: (record: number, le: number): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0xb2,
    p1: record,
    p2: MODE_ABSOLUTE,
    le,
  }),
  updateRecord: (record: number, data: Uint8Array): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0xdc,
    p1: record,
    p2: MODE_ABSOLUTE,
    data,
  }),
  verifyPin: (pin: string): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0x20,
    p1: 0,
    p2: KEY_PIN1,
    data: encodePinBlock(pin),
  }),
  /** VERIFY without data (TS 102 221 §11.1.9): 63Cx tries left, or 9000 when already verified. */
  pinRetries: (): CommandApdu => ({ cla: CLA_USIM, ins: 0x20, p1: 0, p2: KEY_PIN1 }),
  unblockPin: (puk: string, newPin: string): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0x2c,
    p1: 0,
    p2: KEY_PIN1,
    data: concatBytes(encodePinBlock(puk, 8), encodePinBlock(newPin)),
  }),
  /** UNBLOCK PIN without data (TS 102 221 §11.1.13): 63Cx = PUK tries left. */
  pukRetries: (): CommandApdu => ({ cla: CLA_USIM, ins: 0x2c, p1: 0, p2: KEY_PIN1 }),
  getResponse: (le: number): CommandApdu => ({ cla: CLA_USIM, ins: 0xc0, p1: 0, p2: 0, le }),
  /**
   * AUTHENTICATE, 3G context (TS 31.102 §7.1.2.1): `00 88 00 81 22 10 RAND
   * 10 AUTN 00`. Case 4: the answer (DB … or DC …) comes back, or 61xx on T=0.
   */
  authenticate3g: (rand: Uint8Array, autn: Uint8Array): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0x88,
    p1: 0,
    p2: P2_AUTH_3G,
    data: concatBytes(lv(rand), lv(autn)),
    le: 256,
  }),
  /** AUTHENTICATE, GSM context (TS 31.102 §7.1.2.1): `00 88 00 80 11 10 RAND 00` → 04 SRES 08 Kc. */
  authenticateGsm: (rand: Uint8Array): CommandApdu => ({
    cla: CLA_USIM,
    ins: 0x88,
    p1: 0,
    p2: P2_AUTH_GSM,
    data: lv(rand),
    le: 256,
  }),
} as const;
