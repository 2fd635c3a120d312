import { encodeAdnRecord, gsmAlpha, TON_NPI_UNKNOWN_ISDN } from './adn.js';
import { encodeApplicationTemplate } from './ef-dir.js';
import { UiccError } from './errors.js';
import { FID, VIRTUAL_USIM_AID } from './file-ids.js';
import type { AccessRule, FileStructure } from './file-info.js';
import { encodeIccid } from './iccid.js';
import { encodeImsi } from './imsi.js';
import { TERMINAL_ID_RECORD_LENGTH } from './terminal-id-file.js';
import type { ResolvedProfile } from './virtual-profile.js';

/** An EF body; two EFs may share one body (EF_IMSI under DF_GSM and ADF_USIM are one identity). */
export type EfBody =
  | { readonly kind: 'transparent'; data: Uint8Array }
  | { readonly kind: 'records'; readonly records: Uint8Array[]; readonly recordLength: number };

export interface VirtualEf {
  readonly kind: 'ef';
  readonly fid: number;
  readonly structure: FileStructure;
  readonly body: EfBody;
  readonly read: AccessRule;
  readonly update: AccessRule;
}

export interface VirtualDf {
  readonly kind: 'df';
  readonly fid: number;
  /** Set for an ADF (selected by AID, TS 102 221 §8.4.1). */
  readonly aid?: Uint8Array;
  readonly children: readonly (VirtualDf | VirtualEf)[];
}

export interface VirtualFileSystem {
  readonly mf: VirtualDf;
  readonly adf: VirtualDf;
  readonly adn: VirtualEf;
  readonly terminalIds: VirtualEf | undefined;
  readonly imsi: VirtualEf;
  readonly iccid: VirtualEf;
}

/** EF_DIR record length: room for the 16-byte AID + label template with FF padding. */
const EF_DIR_RECORD_LENGTH = 32;

function transparent(fid: number, data: Uint8Array, read: AccessRule, update: AccessRule): VirtualEf {
  return { kind: 'ef', fid, structure: 'transparent', body: { kind: 'transparent', data }, read, update };
}

function linearFixed(
  fid: number,
  count: number,
  recordLength: number,
  read: AccessRule,
  update: AccessRule,
): VirtualEf {
  const records = Array.from({ length: count }, () => new Uint8Array(recordLength).fill(0xff));
  return {
    kind: 'ef',
    fid,
    structure: 'linear-fixed',
    body: { kind: 'records', records, recordLength },
    read,
    update,
  };
}

function records(ef: VirtualEf): Uint8Array[] {
  if (ef.body.kind !== 'records') throw new UiccError('bad-argument', 'not a record EF');
  return ef.body.records;
}

/**
 * Builds the file tree of DESIGN.md's virtual UICC:
 * MF 3F00 ─ EF_DIR 2F00, EF_ICCID 2FE2,
 *         ─ DF_TELECOM 7F10 ─ EF_ADN 6F3A,
 *         ─ DF_GSM 7F20 ─ EF_IMSI 6F07,
 *         ─ DF 7FDE ─ EF 6F01 (terminal IDs, optional);
 * ADF_USIM (by AID) ─ EF_IMSI 6F07 (same body as under DF_GSM).
 * Access: EF_ICCID and EF_DIR read always (TS 102 221 §13); EF_IMSI read
 * PIN1, update ADM (TS 31.102 §4.2.2); EF_ADN read/update PIN1 (TS 51.011
 * §10.5.1); the terminal-ID EF read/update PIN1, since FIG. 11-B trusts the list.
 * Throws UiccError 'bad-argument' for a profile that cannot be personalised.
 */
export function buildFileSystem(p: ResolvedProfile): VirtualFileSystem {
  const dir = linearFixed(FID.EF_DIR, 1, EF_DIR_RECORD_LENGTH, 'always', 'never');
  records(dir)[0] = encodeApplicationTemplate({ aid: VIRTUAL_USIM_AID, label: 'USIM' }, EF_DIR_RECORD_LENGTH);
  const iccid = transparent(FID.EF_ICCID, encodeIccid(p.iccid), 'always', 'never');
  const imsi = transparent(FID.EF_IMSI, encodeImsi(p.imsi), 'pin1', 'never');
  if (!Number.isInteger(p.adnRecords) || p.adnRecords < 1 || p.adnRecords > 254) {
    throw new UiccError('bad-argument', `adnRecords ${p.adnRecords} outside 1..254`);
  }
  const adnLength = p.adnAlphaLength + 14;
  const adn = linearFixed(FID.EF_ADN, p.adnRecords, adnLength, 'pin1', 'pin1');
  p.phonebook.forEach((entry, i) => {
    if (i >= p.adnRecords) throw new UiccError('bad-argument', 'phonebook larger than EF_ADN');
    records(adn)[i] = encodeAdnRecord(
      { alpha: gsmAlpha(entry.name), number: entry.number, tonNpi: TON_NPI_UNKNOWN_ISDN },
      adnLength,
    );
  });
  const terminalIds = p.terminalIdFile
    ? linearFixed(FID.EF_TERMINAL_IDS, p.terminalIdRecords, TERMINAL_ID_RECORD_LENGTH, 'pin1', 'pin1')
    : undefined;
  const telecom: VirtualDf = { kind: 'df', fid: FID.DF_TELECOM, children: [adn] };
  const gsm: VirtualDf = { kind: 'df', fid: FID.DF_GSM, children: [imsi] };
  const simsync: VirtualDf[] = terminalIds
    ? [{ kind: 'df', fid: FID.DF_SIMSYNC, children: [terminalIds] }]
    : [];
  const mf: VirtualDf = { kind: 'df', fid: FID.MF, children: [dir, iccid, telecom, gsm, ...simsync] };
  // The ADF's EF_IMSI is a second directory entry for the same body.
  const adfImsi: VirtualEf = { ...imsi };
  const adf: VirtualDf = { kind: 'df', fid: FID.CURRENT_ADF, aid: VIRTUAL_USIM_AID, children: [adfImsi] };
  return { mf, adf, adn, terminalIds, imsi, iccid };
}

/** Where a card session stands: the DF path from MF (ISO 7816-4 §7.1.1 current DF) and the current EF. */
export interface Selection {
  readonly path: readonly VirtualDf[];
  readonly ef: VirtualEf | undefined;
}

/**
 * SELECT by file ID from `sel` following the selection rules of TS 51.011
 * §8.1 / TS 102 221 §8.4.1: MF; the current DF itself; a child of the current
 * DF; its parent; a sibling DF; for 3G, 7FFF = the active ADF.
 */
export function selectByFid(
  fs: VirtualFileSystem,
  sel: Selection,
  fid: number,
  adfActive: boolean,
): Selection | undefined {
  const path = sel.path;
  const current = path[path.length - 1]!;
  const parent = path[path.length - 2];
  if (fid === FID.MF) return { path: [fs.mf], ef: undefined };
  if (fid === FID.CURRENT_ADF) return adfActive ? { path: [fs.mf, fs.adf], ef: undefined } : undefined;
  if (fid === current.fid) return { path, ef: undefined };
  const child = current.children.find((c) => c.fid === fid);
  if (child?.kind === 'ef') return { path, ef: child };
  if (child?.kind === 'df') return { path: [...path, child], ef: undefined };
  if (parent === undefined) return undefined;
  if (parent.fid === fid) return { path: path.slice(0, -1), ef: undefined };
  const sibling = parent.children.find((c) => c.kind === 'df' && c.fid === fid);
  if (sibling?.kind === 'df') return { path: [...path.slice(0, -1), sibling], ef: undefined };
  return undefined;
}

/** SELECT by path from MF (TS 102 221 §8.4.2, P1 = 08): FIDs after 3F00, each a child of the previous. */
export function selectByPath(
  fs: VirtualFileSystem,
  fids: readonly number[],
  adfActive: boolean,
): Selection | undefined {
  let path: VirtualDf[] = [fs.mf];
  let ef: VirtualEf | undefined;
  for (const [i, fid] of fids.entries()) {
    if (ef !== undefined) return undefined;
    const dir = path[path.length - 1]!;
    if (i === 0 && fid === FID.CURRENT_ADF) {
      if (!adfActive) return undefined;
      path = [fs.mf, fs.adf];
      continue;
    }
    const next = dir.children.find((c) => c.fid === fid);
    if (next === undefined) return undefined;
    if (next.kind === 'ef') ef = next;
    else path = [...path, next];
  }
  return { path, ef };
}

/** SELECT by DF name (P1 = 04): the ADF whose AID starts with `aid` (right truncation, ISO 7816-4 §7.1.1). */
export function selectByAid(fs: VirtualFileSystem, aid: Uint8Array): Selection | undefined {
  const full = fs.adf.aid!;
  if (aid.length < 5 || aid.length > full.length) return undefined;
  return aid.every((b, i) => full[i] === b) ? { path: [fs.mf, fs.adf], ef: undefined } : undefined;
}
