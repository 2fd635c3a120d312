import { type CardErrorKind, HalError } from '../hal/index.js';

/** PC/SC return codes we react to (pcsc-lite pcsclite.h, MSDN "Smart Card Return Values"). */
export const PCSC_CODE = {
  CANCELLED: 0x80100002,
  UNKNOWN_READER: 0x80100009,
  TIMEOUT: 0x8010000a,
  SHARING_VIOLATION: 0x8010000b,
  NO_SMARTCARD: 0x8010000c,
  UNKNOWN_CARD: 0x8010000d,
  PROTO_MISMATCH: 0x8010000f,
  COMM_ERROR: 0x80100013,
  NOT_TRANSACTED: 0x80100016,
  READER_UNAVAILABLE: 0x80100017,
  NO_SERVICE: 0x8010001d,
  SERVICE_STOPPED: 0x8010001e,
  NO_READERS_AVAILABLE: 0x8010002e,
  UNSUPPORTED_CARD: 0x80100065,
  UNRESPONSIVE_CARD: 0x80100066,
  UNPOWERED_CARD: 0x80100067,
  RESET_CARD: 0x80100068,
  REMOVED_CARD: 0x80100069,
} as const;

/** What the caller was doing: the same code means different things before and during a session. */
export type PcscPhase = 'context' | 'connect' | 'transmit';

export const NO_PCSCD_MESSAGE =
  'pcscd is not running: install pcscd (Debian: apt-get install pcscd libpcsclite-dev; ' +
  'vsmartcard-vpcd for virtual cards) and start it, e.g. with scripts/pcsc-setup.sh';

/** The PC/SC code in node-pcsclite's messages, "SCardConnect error: Sharing violation.(0x8010000b)". */
export function pcscCode(e: unknown): number | undefined {
  const match = e instanceof Error ? /\(0x([0-9a-f]{8})\)/i.exec(e.message) : null;
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

function kindFor(code: number | undefined, phase: PcscPhase): CardErrorKind {
  const inSession = phase === 'transmit';
  switch (code) {
    case PCSC_CODE.NO_SERVICE:
    case PCSC_CODE.SERVICE_STOPPED:
    case PCSC_CODE.COMM_ERROR:
      return 'device-unavailable';
    case PCSC_CODE.UNKNOWN_READER:
    case PCSC_CODE.READER_UNAVAILABLE:
    case PCSC_CODE.NO_READERS_AVAILABLE:
      // A reader unplugged during a session took the card with it.
      return inSession ? 'card-removed' : 'device-unavailable';
    case PCSC_CODE.NO_SMARTCARD:
    case PCSC_CODE.REMOVED_CARD:
      return inSession ? 'card-removed' : 'no-card';
    case PCSC_CODE.RESET_CARD:
    case PCSC_CODE.UNPOWERED_CARD:
      // Another process reset or powered the card down: this session's state (PIN) is gone.
      return inSession ? 'card-removed' : 'card-blocked';
    case PCSC_CODE.UNRESPONSIVE_CARD:
    case PCSC_CODE.UNSUPPORTED_CARD:
    case PCSC_CODE.UNKNOWN_CARD:
      return 'card-blocked';
    case PCSC_CODE.SHARING_VIOLATION:
      return 'busy';
    case PCSC_CODE.PROTO_MISMATCH:
      return 'not-supported';
    case PCSC_CODE.TIMEOUT:
      return 'timeout';
    default:
      return inSession ? 'card-error' : 'device-unavailable';
  }
}

/** Turns a node-pcsclite error into a HalError of the right kind for `phase`. */
export function fromPcscError(e: unknown, phase: PcscPhase, what: string): HalError {
  if (e instanceof HalError) return e;
  const code = pcscCode(e);
  const kind = kindFor(code, phase);
  const daemonGone =
    code === PCSC_CODE.NO_SERVICE || code === PCSC_CODE.SERVICE_STOPPED || code === PCSC_CODE.COMM_ERROR;
  const detail = e instanceof Error ? e.message : String(e);
  return new HalError(kind, daemonGone ? NO_PCSCD_MESSAGE : `${what}: ${detail}`, { cause: e });
}
