import { UiccError } from './errors.js';

/**
 * A short command APDU (ISO 7816-4 §5.1). The case follows from which of
 * `data` and `le` are present:
 * case 1 = neither, case 2 = `le` only, case 3 = `data` only, case 4 = both.
 */
export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data, 1–255 bytes (short Lc). */
  readonly data?: Uint8Array;
  /** Expected response length, 1–256; 256 is encoded as Le = 00 (ISO 7816-4 §5.1). */
  readonly le?: number;
}

export type ApduCase = 1 | 2 | 3 | 4;

export function apduCase(apdu: CommandApdu): ApduCase {
  if (apdu.data === undefined) return apdu.le === undefined ? 1 : 2;
  return apdu.le === undefined ? 3 : 4;
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new UiccError('bad-argument', `${name} must be a byte, got ${v}`);
  }
}

/** Encodes a short APDU. Throws 'bad-argument' for values a short APDU cannot carry. */
export function encodeApdu(apdu: CommandApdu): Uint8Array {
  checkByte('CLA', apdu.cla);
  checkByte('INS', apdu.ins);
  checkByte('P1', apdu.p1);
  checkByte('P2', apdu.p2);
  const { data, le } = apdu;
  if (data !== undefined && (data.length < 1 || data.length > 255)) {
    // ISO 7816-4 §5.1: a short Lc is 1..255; Lc = 0 does not exist, an empty body is case 1/2.
    throw new UiccError('bad-argument', `short APDU data must be 1..255 bytes, got ${data.length}`);
  }
  if (le !== undefined && (!Number.isInteger(le) || le < 1 || le > 256)) {
    throw new UiccError('bad-argument', `short Le must be 1..256, got ${le}`);
  }
  const header = [apdu.cla, apdu.ins, apdu.p1, apdu.p2];
  const out: number[] = [...header];
  if (data !== undefined) out.push(data.length, ...data);
  if (le !== undefined) out.push(le & 0xff);
  return Uint8Array.from(out);
}

/**
 * Parses a short command APDU, telling the cases apart by length
 * (ISO 7816-3 §12.1.2 / ISO 7816-4 §5.1):
 * 4 bytes = case 1; 5 bytes = case 2 (P3 is Le, 00 = 256);
 * 5 + Lc = case 3; 6 + Lc = case 4. Anything else is 'bad-apdu'.
 */
export function parseApdu(bytes: Uint8Array): CommandApdu {
  if (bytes.length < 4)
    throw new UiccError('bad-apdu', `APDU shorter than its header: ${bytes.length} bytes`);
  const cla = bytes[0]!;
  const ins = bytes[1]!;
  const p1 = bytes[2]!;
  const p2 = bytes[3]!;
  if (bytes.length === 4) return { cla, ins, p1, p2 };
  const p3 = bytes[4]!;
  if (bytes.length === 5) return { cla, ins, p1, p2, le: p3 === 0 ? 256 : p3 };
  if (p3 === 0) throw new UiccError('bad-apdu', 'Lc = 00 with a body: not a short APDU');
  if (bytes.length === 5 + p3) return { cla, ins, p1, p2, data: bytes.slice(5) };
  if (bytes.length === 6 + p3) {
    const le = bytes[5 + p3]!;
    return { cla, ins, p1, p2, data: bytes.slice(5, 5 + p3), le: le === 0 ? 256 : le };
  }
  throw new UiccError('bad-apdu', `Lc = ${p3} does not match a body of ${bytes.length - 5} bytes`);
}
