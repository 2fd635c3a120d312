import { UiccError } from './errors.js';
import type { AccessRule, FileInfo, FileStructure } from './file-info.js';
import { concatBytes } from './hex.js';
import { encodeTlv, findTlv, parseTlvs } from './tlv.js';

/**
 * The 3G FCP template returned by SELECT with P2 = 04 (TS 102 221
 * §11.1.1.3, used by TS 31.101): tag 62 holding the file descriptor (82),
 * file identifier (83), DF name (84, ADF only), life cycle status (8A),
 * compact security attributes (8C), file size (80, EF) and, for a DF/ADF,
 * the PIN status template (C6).
 *
 * An ADF is selected by its AID, and real cards answer that SELECT with 84
 * and no 83 at all (pySim's dumps of sysmoISIM-SJA2 and sysmoISIM-SJA5,
 * uicc/card-dumps.ts): such an FCP decodes with the FID 7FFF that TS 102 221
 * §8.4.1 reserves for the current ADF. An MF, DF or EF still needs its 83.
 */

const TAG_FCP = 0x62;
const TAG_SIZE = 0x80;
const TAG_DESCRIPTOR = 0x82;
const TAG_FID = 0x83;
const TAG_DF_NAME = 0x84;
const TAG_LIFE_CYCLE = 0x8a;
const TAG_SECURITY_COMPACT = 0x8c;
const TAG_PIN_STATUS = 0xc6;
const TAG_PS_DO = 0x90;
const TAG_USAGE_QUALIFIER = 0x95;
const TAG_KEY_REFERENCE = 0x83;

/** TS 102 221 §11.1.1.4.3: descriptor byte b6..b4 = 111 for a DF; b3..b1 give the EF structure. */
const DESCRIPTOR_DF = 0x78;
const DESCRIPTOR_EF: Record<FileStructure, number> = {
  transparent: 0x41,
  'linear-fixed': 0x42,
  cyclic: 0x46,
};
/** Data coding byte of TS 102 221 §11.1.1.4.3, fixed at '21'. */
const DATA_CODING = 0x21;
const KEY_PIN1 = 0x01;
/** TS 102 221 §8.4.1: the FID that stands for the current ADF. */
const FID_CURRENT_ADF = 0x7fff;
/** ISO 7816-4 §9.3.3 compact security condition bytes: always, user authentication (SE 1), never. */
const SC_BYTE: Record<AccessRule, number> = { always: 0x00, pin1: 0x11, never: 0xff };

export type FcpDescription =
  | { kind: 'df'; fid: number; aid?: Uint8Array; pin1Enabled: boolean }
  | {
      kind: 'ef';
      fid: number;
      structure: FileStructure;
      size: number;
      recordLength: number;
      read: AccessRule;
      update: AccessRule;
    };

function u16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

function pinStatusTemplate(pin1Enabled: boolean): Uint8Array {
  // PS_DO b8 corresponds to the first key reference listed (PIN1).
  return encodeTlv(
    TAG_PIN_STATUS,
    concatBytes(
      encodeTlv(TAG_PS_DO, Uint8Array.of(pin1Enabled ? 0x80 : 0x00)),
      encodeTlv(TAG_USAGE_QUALIFIER, Uint8Array.of(0x08)),
      encodeTlv(TAG_KEY_REFERENCE, Uint8Array.of(KEY_PIN1)),
    ),
  );
}

export function encodeFcp(d: FcpDescription): Uint8Array {
  const lifeCycle = encodeTlv(TAG_LIFE_CYCLE, Uint8Array.of(0x05)); // operational, activated
  if (d.kind === 'df') {
    return encodeTlv(
      TAG_FCP,
      concatBytes(
        encodeTlv(TAG_DESCRIPTOR, Uint8Array.of(DESCRIPTOR_DF, DATA_CODING)),
        encodeTlv(TAG_FID, u16(d.fid)),
        d.aid === undefined ? new Uint8Array(0) : encodeTlv(TAG_DF_NAME, d.aid),
        lifeCycle,
        pinStatusTemplate(d.pin1Enabled),
      ),
    );
  }
  const descriptor =
    d.structure === 'transparent'
      ? Uint8Array.of(DESCRIPTOR_EF.transparent, DATA_CODING)
      : Uint8Array.of(
          DESCRIPTOR_EF[d.structure],
          DATA_CODING,
          ...u16(d.recordLength),
          d.size / d.recordLength,
        );
  // AM byte b2 = UPDATE, b1 = READ; SC bytes follow from the highest AM bit down.
  const security = Uint8Array.of(0x03, SC_BYTE[d.update], SC_BYTE[d.read]);
  return encodeTlv(
    TAG_FCP,
    concatBytes(
      encodeTlv(TAG_DESCRIPTOR, descriptor),
      encodeTlv(TAG_FID, u16(d.fid)),
      lifeCycle,
      encodeTlv(TAG_SECURITY_COMPACT, security),
      encodeTlv(TAG_SIZE, u16(d.size)),
    ),
  );
}

function structureOf(descriptor: number): FileStructure {
  switch (descriptor & 0x07) {
    case 1:
      return 'transparent';
    case 2:
      return 'linear-fixed';
    case 6:
      return 'cyclic';
    default:
      throw new UiccError('bad-response', `FCP: EF structure ${descriptor & 0x07} unknown`);
  }
}

/** PS_DO (TS 102 221 §11.1.1.4.10): bit n, from b8 of the first byte, is the nth key reference listed. */
function pin1EnabledFrom(template: Uint8Array): boolean | undefined {
  const inner = parseTlvs(template);
  const psDo = findTlv(inner, TAG_PS_DO);
  if (psDo === undefined || psDo.length === 0) return undefined;
  const keyRefs = inner.filter((t) => t.tag === TAG_KEY_REFERENCE).map((t) => t.value[0]);
  const index = keyRefs.indexOf(KEY_PIN1);
  if (index < 0 || index >= psDo.length * 8) return undefined;
  const byte = psDo[index >> 3]!;
  return (byte & (0x80 >> (index & 7))) !== 0;
}

/** Decodes an FCP template. Throws 'bad-response' on a malformed template. */
export function decodeFcp(bytes: Uint8Array): FileInfo {
  const outer = parseTlvs(bytes);
  const body = findTlv(outer, TAG_FCP);
  if (outer.length !== 1 || body === undefined)
    throw new UiccError('bad-response', 'not an FCP template (62)');
  const tlvs = parseTlvs(body);
  const descriptor = findTlv(tlvs, TAG_DESCRIPTOR);
  if (descriptor === undefined || descriptor.length < 1) {
    throw new UiccError('bad-response', 'FCP without file descriptor (82)');
  }
  const d0 = descriptor[0]!;
  const isDf = (d0 & 0x38) === 0x38;
  const aid = isDf ? findTlv(tlvs, TAG_DF_NAME) : undefined;
  const fidBytes = findTlv(tlvs, TAG_FID);
  if (fidBytes !== undefined && fidBytes.length !== 2) {
    throw new UiccError('bad-response', `FCP: file identifier (83) of ${fidBytes.length} bytes`);
  }
  if (fidBytes === undefined && aid === undefined) {
    throw new UiccError('bad-response', 'FCP without file identifier (83) or DF name (84)');
  }
  const fid = fidBytes === undefined ? FID_CURRENT_ADF : (fidBytes[0]! << 8) | fidBytes[1]!;
  if (isDf) {
    const pinTemplate = findTlv(tlvs, TAG_PIN_STATUS);
    const pin1Enabled = pinTemplate === undefined ? undefined : pin1EnabledFrom(pinTemplate);
    const type = aid !== undefined ? 'adf' : fid === 0x3f00 ? 'mf' : 'df';
    return {
      fid,
      type,
      size: 0,
      ...(aid ? { aid } : {}),
      ...(pin1Enabled === undefined ? {} : { pin1Enabled }),
    };
  }
  const structure = structureOf(d0);
  const sizeBytes = findTlv(tlvs, TAG_SIZE);
  const size = sizeBytes === undefined ? 0 : sizeBytes.reduce((acc, b) => acc * 256 + b, 0);
  if (structure === 'transparent') return { fid, type: 'ef', structure, size };
  if (descriptor.length < 5) throw new UiccError('bad-response', 'FCP: record EF descriptor too short');
  const recordLength = (descriptor[2]! << 8) | descriptor[3]!;
  const recordCount = descriptor[4]!;
  if (recordLength === 0) throw new UiccError('bad-response', 'FCP: record length 0');
  return { fid, type: 'ef', structure, size: size || recordLength * recordCount, recordLength, recordCount };
}
