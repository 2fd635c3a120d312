import { UiccError } from './errors.js';
import type { AccessRule, FileInfo, FileStructure } from './file-info.js';

/**
 * The 2G response to SELECT / STATUS (TS 51.011 §9.2.1), fetched with
 * GET RESPONSE after SW 9Fxx. Byte numbers below are the standard's (1-based).
 */

const TYPE_MF = 0x01;
const TYPE_DF = 0x02;
const TYPE_EF = 0x04;

/** b8 of the CHV status bytes: "secret code initialised". */
const CHV_INITIALISED = 0x80;
/** b8 of file characteristics (byte 14): CHV1 disabled. */
const CHV1_DISABLED = 0x80;

const STRUCTURE_CODES: Record<FileStructure, number> = {
  transparent: 0x00,
  'linear-fixed': 0x01,
  cyclic: 0x03,
};

/** TS 51.011 §9.3: ALW = 0, CHV1 = 1, ADM = 4..E, NEV = F. We use E for "never". */
const ACCESS_NIBBLE: Record<AccessRule, number> = { always: 0x0, pin1: 0x1, never: 0xe };

export interface GsmDfDescription {
  fid: number;
  isMf: boolean;
  freeMemory: number;
  childDfs: number;
  childEfs: number;
  chv1Enabled: boolean;
  chv1RetriesLeft: number;
  pukRetriesLeft: number;
}

/** Encodes the MF/DF response (23 bytes: byte 13 says 10 bytes of GSM data follow). */
export function encodeGsmDfResponse(d: GsmDfDescription): Uint8Array {
  const r = new Uint8Array(23);
  r[2] = (d.freeMemory >> 8) & 0xff;
  r[3] = d.freeMemory & 0xff;
  r[4] = d.fid >> 8;
  r[5] = d.fid & 0xff;
  r[6] = d.isMf ? TYPE_MF : TYPE_DF;
  r[12] = 10;
  // Byte 14 b1: clock stop allowed; b8: CHV1 disabled.
  r[13] = 0x01 | (d.chv1Enabled ? 0 : CHV1_DISABLED);
  r[14] = d.childDfs;
  r[15] = d.childEfs;
  r[16] = 3; // CHV1, UNBLOCK CHV1, ADM.
  r[18] = CHV_INITIALISED | (d.chv1RetriesLeft & 0x0f);
  r[19] = CHV_INITIALISED | (d.pukRetriesLeft & 0x0f);
  r[20] = 0x00; // CHV2 not initialised.
  r[21] = 0x00;
  return r;
}

export interface GsmEfDescription {
  fid: number;
  structure: FileStructure;
  size: number;
  recordLength: number;
  read: AccessRule;
  update: AccessRule;
}

/** Encodes the EF response (15 bytes: byte 13 says 2 bytes of structure data follow). */
export function encodeGsmEfResponse(d: GsmEfDescription): Uint8Array {
  const r = new Uint8Array(15);
  r[2] = (d.size >> 8) & 0xff;
  r[3] = d.size & 0xff;
  r[4] = d.fid >> 8;
  r[5] = d.fid & 0xff;
  r[6] = TYPE_EF;
  // Bytes 9–11: READ/UPDATE, INCREASE/RFU, REHABILITATE/INVALIDATE access conditions.
  r[8] = (ACCESS_NIBBLE[d.read] << 4) | ACCESS_NIBBLE[d.update];
  r[9] = 0xee;
  r[10] = 0xee;
  r[11] = 0x01; // Byte 12 b1: not invalidated.
  r[12] = 2;
  r[13] = STRUCTURE_CODES[d.structure];
  r[14] = d.structure === 'transparent' ? 0 : d.recordLength;
  return r;
}

function structureFromCode(code: number): FileStructure {
  for (const [name, value] of Object.entries(STRUCTURE_CODES))
    if (value === code) return name as FileStructure;
  throw new UiccError('bad-response', `GSM response: unknown EF structure ${code}`);
}

/** Decodes a GSM SELECT/STATUS response. Throws 'bad-response' when too short or inconsistent. */
export function decodeGsmResponse(r: Uint8Array): FileInfo {
  if (r.length < 13) throw new UiccError('bad-response', `GSM response of ${r.length} bytes`);
  const size = (r[2]! << 8) | r[3]!;
  const fid = (r[4]! << 8) | r[5]!;
  const type = r[6]!;
  if (type === TYPE_EF) {
    if (r.length < 15) throw new UiccError('bad-response', `GSM EF response of ${r.length} bytes`);
    const structure = structureFromCode(r[13]!);
    if (structure === 'transparent') return { fid, type: 'ef', structure, size };
    const recordLength = r[14]!;
    if (recordLength === 0) throw new UiccError('bad-response', 'GSM response: record length 0');
    return { fid, type: 'ef', structure, size, recordLength, recordCount: Math.floor(size / recordLength) };
  }
  if (type !== TYPE_MF && type !== TYPE_DF)
    throw new UiccError('bad-response', `GSM response: file type ${type}`);
  if (r.length < 22) throw new UiccError('bad-response', `GSM DF response of ${r.length} bytes`);
  return {
    fid,
    type: type === TYPE_MF ? 'mf' : 'df',
    size,
    pin1Enabled: (r[13]! & CHV1_DISABLED) === 0,
    pin1RetriesLeft: r[18]! & 0x0f,
    pukRetriesLeft: r[19]! & 0x0f,
  };
}
