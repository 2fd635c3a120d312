import type { CommandApdu } from './apdu.js';
import { concatBytes } from './hex.js';
import { encodePinBlock } from './pin-block.js';

/**
 * 2G SIM commands, CLA A0 (TS 51.011 §9.2). All are T=0 shaped: SELECT is
 * case 3 and its response comes back through 9Fxx + GET RESPONSE.
 */
export const CLA_SIM = 0xa0;

/** READ/UPDATE RECORD mode "absolute/current" (TS 51.011 §9.2.5). */
const MODE_ABSOLUTE = 0x04;

export const simCommands = {
  /** SELECT by file ID (§9.2.1). The only selection method a 2G SIM has. */
  select: (fid: number): CommandApdu => ({
    cla: CLA_SIM,
    ins: 0xa4,
    p1: 0,
    p2: 0,
    data: Uint8Array.of(fid >> 8, fid & 0xff),
  }),
  /** STATUS (§9.2.2): the GSM response of the current directory. */
  status: (le = 22): CommandApdu => ({ cla: CLA_SIM, ins: 0xf2, p1: 0, p2: 0, le }),
  readBinary: (offset: number, le: number): CommandApdu => ({
    cla: CLA_SIM,
    ins: 0xb0,
    p1: offset >> 8,
    p2: offset & 0xff,
    le,
  }),
  updateBinary: (offset: number, data: Uint8Array): CommandApdu => ({
    cla: CLA_SIM,
    ins: 0xd6,
    p1: offset >> 8,
    p2: offset & 0xff,
    data,
  }),
  readRecord: (record: number, le: number): CommandApdu => ({
    cla: CLA_SIM,
    ins: 0xb2,
    p1: record,
    p2: MODE_ABSOLUTE,
    le,
  }),
  updateRecord: (record: number, data: Uint8Array): CommandApdu => ({
    cla: CLA_SIM,
    ins: 0xdc,
    p1: record,
    p2: MODE_ABSOLUTE,
    data,
  }),
  /** VERIFY CHV (§9.2.9), P2 = 01 for CHV1. */
  verifyChv1: (pin: string): CommandApdu => ({
    cla: CLA_SIM,
    ins: 0x20,
    p1: 0,
    p2: 0x01,
    data: encodePinBlock(pin),
  }),
  /** UNBLOCK CHV (§9.2.13): P2 = 00 means CHV1 (02 would be CHV2). */
  unblockChv1: (puk: string, newPin: string): CommandApdu => ({
    cla: CLA_SIM,
    ins: 0x2c,
    p1: 0,
    p2: 0x00,
    data: concatBytes(encodePinBlock(puk, 8), encodePinBlock(newPin)),
  }),
  getResponse: (le: number): CommandApdu => ({ cla: CLA_SIM, ins: 0xc0, p1: 0, p2: 0, le }),
  /**
   * RUN GSM ALGORITHM (§9.2.16): `A0 88 00 00 10 RAND`, with DF_GSM current
   * and CHV1 verified; the card answers 9F0C and GET RESPONSE gives SRES (4) ‖ Kc (8).
   */
  runGsmAlgorithm: (rand: Uint8Array): CommandApdu => ({ cla: CLA_SIM, ins: 0x88, p1: 0, p2: 0, data: rand }),
} as const;
