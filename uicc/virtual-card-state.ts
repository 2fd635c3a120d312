import type { Milenage } from './aka/milenage.js';
import type { UsimSqnArray } from './aka/sqn.js';
import type { CommandApdu } from './apdu.js';
import type { AccessRule } from './file-info.js';
import { encodeResponse } from './response.js';
import { SW } from './status-words.js';
import type { Selection, VirtualFileSystem } from './virtual-file-system.js';
import type { RetryCounter } from './virtual-pin.js';
import type { ResolvedProfile } from './virtual-profile.js';

/** The command set a command arrived in: CLA A0 (TS 51.011) or CLA 0X/8X (TS 102 221 / TS 31.101). */
export type Generation = 'sim' | 'usim';

/** Everything the command handlers of the virtual card read and change. */
export interface CardState {
  readonly profile: ResolvedProfile;
  /** EEPROM: survives power cycles. */
  readonly fs: VirtualFileSystem;
  readonly pin: RetryCounter;
  readonly puk: RetryCounter;
  /**
   * EEPROM: the AKA algorithm with the card's K and OPc, and its SEQ_MS
   * array (TS 33.102 Annex C.2), which survives power cycles like the files.
   * Undefined: the card has no AKA algorithm (AUTHENTICATE answers 6D00).
   */
  readonly aka: { readonly milenage: Milenage; readonly sqns: UsimSqnArray } | undefined;
  /** EEPROM: whether PIN1 guards the files marked 'pin1' (ENABLE/DISABLE PIN state). */
  pin1Enabled: boolean;
  /** RAM: reset by powerOn. */
  sel: Selection;
  adfActive: boolean;
  pinVerified: boolean;
  /** Response data waiting for GET RESPONSE (ISO 7816-3 §12.2.3); cleared by any other command. */
  pending: Uint8Array | undefined;
}

/** The status words that differ between the two generations for the same condition. */
export interface GenerationSws {
  readonly fileNotFound: number;
  readonly accessDenied: number;
  readonly blocked: number;
  readonly noEf: number;
  readonly recordOutOfRange: number;
  readonly wrongStructure: number;
  readonly badP1P2: number;
  readonly noPendingResponse: number;
  /** Wrong PIN/PUK with `left` tries remaining (left > 0). */
  wrongSecret(left: number): number;
  /** Wrong Le; `exact` is the length the card can give. */
  wrongLe(exact: number): number;
  /** Response data of `n` bytes is waiting. */
  pending(n: number): number;
}

export const SWS: Record<Generation, GenerationSws> = {
  sim: {
    fileNotFound: SW.GSM_FILE_NOT_FOUND,
    accessDenied: SW.GSM_ACCESS_DENIED,
    blocked: SW.GSM_CHV_BLOCKED,
    noEf: SW.GSM_NO_EF_SELECTED,
    recordOutOfRange: SW.GSM_OUT_OF_RANGE,
    wrongStructure: SW.GSM_FILE_INCONSISTENT,
    badP1P2: SW.WRONG_P1P2,
    noPendingResponse: SW.TECHNICAL_PROBLEM,
    wrongSecret: () => SW.GSM_ACCESS_DENIED,
    // TS 51.011 §9.4.4: 67XX, XX = the correct length.
    wrongLe: (exact) => 0x6700 | (exact & 0xff),
    pending: (n) => 0x9f00 | (n & 0xff),
  },
  usim: {
    fileNotFound: SW.FILE_NOT_FOUND,
    accessDenied: SW.SECURITY_NOT_SATISFIED,
    blocked: SW.AUTH_METHOD_BLOCKED,
    noEf: SW.NO_CURRENT_EF,
    recordOutOfRange: SW.RECORD_NOT_FOUND,
    wrongStructure: SW.INCOMPATIBLE_FILE_STRUCTURE,
    badP1P2: SW.INCORRECT_P1P2,
    noPendingResponse: SW.CONDITIONS_NOT_SATISFIED,
    wrongSecret: (left) => 0x63c0 | (left & 0x0f),
    wrongLe: (exact) => 0x6c00 | (exact & 0xff),
    pending: (n) => 0x6100 | (n & 0xff),
  },
};

export const sw = (code: number): Uint8Array => encodeResponse(code);
export const ok = (data?: Uint8Array): Uint8Array => encodeResponse(SW.OK, data);

/** A 'pin1' file is open once PIN1 is verified, or always while PIN1 is disabled. */
export function allowed(state: CardState, rule: AccessRule): boolean {
  return rule === 'always' || (rule === 'pin1' && (state.pinVerified || !state.pin1Enabled));
}

/**
 * Answers a case-2 command with `data` under the Le rules of the profile.
 * `exactOnly`: Le must equal the length (READ RECORD, TS 51.011 §9.2.5).
 */
export function answerWithLe(
  state: CardState,
  gen: Generation,
  cmd: CommandApdu,
  data: Uint8Array,
  exactOnly = false,
): Uint8Array {
  const le = cmd.le;
  if (le === undefined || cmd.data !== undefined) return sw(SW.WRONG_LENGTH);
  const strict = state.profile.strictLe;
  if (le === data.length || (le === 256 && data.length > 256)) return ok(data.subarray(0, le));
  if (strict && (le > data.length || exactOnly)) return sw(SWS[gen].wrongLe(data.length));
  return ok(data.subarray(0, Math.min(le, data.length)));
}

/**
 * Answers a command that produced response data (SELECT, case 3 or 4).
 * 2G always parks it behind 9Fxx (TS 51.011 §9.4.1); 3G parks it behind 61xx
 * over T=0 or when the command carried no Le, else returns it directly.
 */
export function deliver(state: CardState, gen: Generation, cmd: CommandApdu, data: Uint8Array): Uint8Array {
  if (gen === 'sim' || state.profile.t0GetResponse || cmd.le === undefined) {
    state.pending = data;
    return sw(SWS[gen].pending(data.length));
  }
  return ok(data.subarray(0, Math.min(cmd.le, data.length)));
}
