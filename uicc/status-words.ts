/**
 * Status words (SW1 SW2) and their meanings. Interindustry values are from
 * ISO 7816-4 §5.6 and TS 102 221 §10.2 (used by TS 31.101/31.102); the
 * 9xxx family is 2G-only, from TS 51.011 §9.4.
 */
export const SW = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  SECURITY_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_INVALIDATED: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  INCOMPATIBLE_FILE_STRUCTURE: 0x6981,
  NO_CURRENT_EF: 0x6986,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_P1P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  TECHNICAL_PROBLEM: 0x6f00,
  MEMORY_PROBLEM: 0x6581,
  GSM_NO_EF_SELECTED: 0x9400,
  GSM_OUT_OF_RANGE: 0x9402,
  GSM_FILE_NOT_FOUND: 0x9404,
  GSM_FILE_INCONSISTENT: 0x9408,
  GSM_MEMORY_PROBLEM: 0x9240,
  GSM_NO_CHV_INITIALISED: 0x9802,
  GSM_ACCESS_DENIED: 0x9804,
  GSM_CHV_CONTRADICTION: 0x9808,
  GSM_INVALIDATION_CONTRADICTION: 0x9810,
  GSM_CHV_BLOCKED: 0x9840,
  /** AUTHENTICATE: authentication error, incorrect MAC (TS 31.102 §7.3.1). */
  AUTH_INCORRECT_MAC: 0x9862,
  /** AUTHENTICATE: authentication error, security context not supported (TS 31.102 §7.3.1). */
  AUTH_CONTEXT_NOT_SUPPORTED: 0x9864,
} as const;

/** Fixed status words with their meanings. */
const FIXED: ReadonlyMap<number, string> = new Map([
  [0x9000, 'normal ending of the command'],
  [0x6700, 'wrong length'],
  [0x6581, 'memory problem'],
  [0x6981, 'command incompatible with file structure'],
  [0x6982, 'security status not satisfied (PIN required)'],
  [0x6983, 'authentication/PIN method blocked'],
  [0x6984, 'referenced data invalidated'],
  [0x6985, 'conditions of use not satisfied'],
  [0x6986, 'command not allowed (no EF selected)'],
  [0x6a80, 'incorrect parameters in the data field'],
  [0x6a81, 'function not supported'],
  [0x6a82, 'file or application not found'],
  [0x6a83, 'record not found'],
  [0x6a84, 'not enough memory space in the file'],
  [0x6a86, 'incorrect parameters P1-P2'],
  [0x6a88, 'referenced data not found'],
  [0x6b00, 'wrong parameters P1-P2 (offset outside the EF)'],
  [0x6d00, 'instruction code not supported or invalid'],
  [0x6e00, 'class not supported'],
  [0x6f00, 'technical problem, no precise diagnosis'],
  [0x9240, '2G: memory problem'],
  [0x9400, '2G: no EF selected'],
  [0x9402, '2G: out of range (invalid address)'],
  [0x9404, '2G: file ID or pattern not found'],
  [0x9408, '2G: file is inconsistent with the command'],
  [0x9802, '2G: no CHV initialised'],
  [0x9804, '2G: access condition not fulfilled / CHV verification failed'],
  [0x9808, '2G: in contradiction with CHV status'],
  [0x9810, '2G: in contradiction with invalidation status'],
  [0x9840, '2G: CHV verification failed, no attempt left (CHV blocked)'],
  [0x9862, 'authentication error, incorrect MAC'],
  [0x9864, 'authentication error, security context not supported'],
]);

/** A human-readable meaning for any status word, for logs and error messages. */
export function describeSw(sw: number): string {
  const fixed = FIXED.get(sw);
  if (fixed !== undefined) return fixed;
  const sw1 = sw >> 8;
  const xx = sw & 0xff;
  if (sw1 === 0x61) return `${xx === 0 ? 256 : xx} response bytes available (GET RESPONSE)`;
  if (sw1 === 0x9f) return `2G: ${xx === 0 ? 256 : xx} response bytes available (GET RESPONSE)`;
  if (sw1 === 0x6c) return `wrong Le: exact length is ${xx === 0 ? 256 : xx}`;
  if (sw1 === 0x67) return `2G: incorrect P3, correct length is ${xx}`;
  if ((sw & 0xfff0) === 0x63c0) return `verification failed, ${sw & 0x0f} retries left`;
  if (sw1 === 0x91) return `2G: proactive command of ${xx} bytes pending`;
  if (sw1 === 0x92 && (xx & 0xf0) === 0) return `2G: command successful after ${xx} internal retries`;
  return 'unknown status word';
}

/** SW 61xx / 9Fxx: response data waiting for GET RESPONSE; returns its length, else undefined. */
export function pendingResponseLength(sw: number): number | undefined {
  const sw1 = sw >> 8;
  if (sw1 !== 0x61 && sw1 !== 0x9f) return undefined;
  const xx = sw & 0xff;
  return xx === 0 ? 256 : xx;
}

/** SW 63Cx (TS 102 221 §10.2.1.3): verification failed, x tries left; else undefined. */
export function retriesFromSw(sw: number): number | undefined {
  return (sw & 0xfff0) === 0x63c0 ? sw & 0x0f : undefined;
}
