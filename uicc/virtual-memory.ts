import { IND_COUNT, SEQ_MAX } from './aka/sqn.js';
import { UiccError } from './errors.js';
import { fromHex, toHex } from './hex.js';
import { PIN_BLOCK_BYTES } from './pin-block.js';
import type { VirtualDf, VirtualEf, VirtualFileSystem } from './virtual-file-system.js';

/**
 * What a VirtualUicc keeps in EEPROM, as plain JSON (bytes as uppercase
 * hex): what a real card still holds after it was powered off, taken out
 * or left in a drawer. RAM (selection, PIN verified, pending response) is
 * not part of it. The profile says what the card is (ICCID, IMSI, file
 * sizes, K, wire behaviour); the memory says what happened to it since.
 */
export interface VirtualCardMemory {
  readonly version: typeof MEMORY_VERSION;
  /** The card this memory belongs to: must equal the profile's ICCID and IMSI. */
  readonly iccid: string;
  readonly imsi: string;
  /** PIN1: the stored block (ASCII digits + FF, as UNBLOCK PIN set it), tries left, ENABLE/DISABLE state. */
  readonly pin1: { readonly block: string; readonly retriesLeft: number; readonly enabled: boolean };
  /** PUK1 (UNBLOCK CHV1): the block and its tries left. */
  readonly puk1: { readonly block: string; readonly retriesLeft: number };
  /**
   * Every record EF a command can update, by its path from the MF
   * ("3F00/7F10/6F3A" EF_ADN, "3F00/7FDE/6F01" the FIG. 11-A terminal-ID
   * EF), each record in hex, record 1 first.
   */
  readonly records: Readonly<Record<string, readonly string[]>>;
  /** The 32 SEQ_MS of TS 33.102 Annex C.2; absent on a card that never had an AKA algorithm. */
  readonly seqMs?: readonly number[];
}

export const MEMORY_VERSION = 1;

/** A memory checked against the card it is restored into, with its bytes decoded. */
export interface CheckedMemory {
  readonly pin1: { readonly block: Uint8Array; readonly retriesLeft: number; readonly enabled: boolean };
  readonly puk1: { readonly block: Uint8Array; readonly retriesLeft: number };
  readonly records: ReadonlyMap<VirtualEf, Uint8Array[]>;
  readonly seqMs: readonly number[] | undefined;
}

const fidHex = (fid: number) => fid.toString(16).toUpperCase().padStart(4, '0');

/** The record EFs under `df` whose update rule is not 'never', by path from the MF. */
export function writableRecordEfs(df: VirtualDf, prefix = ''): Map<string, VirtualEf> {
  const out = new Map<string, VirtualEf>();
  const here = prefix === '' ? fidHex(df.fid) : `${prefix}/${fidHex(df.fid)}`;
  for (const child of df.children) {
    if (child.kind === 'df') {
      for (const [p, ef] of writableRecordEfs(child, here)) out.set(p, ef);
    } else if (child.body.kind === 'records' && child.update !== 'never') {
      out.set(`${here}/${fidHex(child.fid)}`, child);
    }
  }
  return out;
}

/** Reads the card's EEPROM into a memory. */
export function memoryOf(
  fs: VirtualFileSystem,
  identity: { iccid: string; imsi: string },
  pin1: VirtualCardMemory['pin1'],
  puk1: VirtualCardMemory['puk1'],
  seqMs: readonly number[] | undefined,
): VirtualCardMemory {
  const records: Record<string, string[]> = {};
  for (const [p, ef] of writableRecordEfs(fs.mf)) {
    records[p] = ef.body.kind === 'records' ? ef.body.records.map(toHex) : [];
  }
  return {
    version: MEMORY_VERSION,
    iccid: identity.iccid,
    imsi: identity.imsi,
    pin1,
    puk1,
    records,
    ...(seqMs === undefined ? {} : { seqMs: [...seqMs] }),
  };
}

const refuse = (why: string): never => {
  throw new UiccError('bad-argument', `card memory: ${why}`);
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function hexOf(v: unknown, bytes: number, what: string): Uint8Array {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]*$/.test(v) || v.length !== 2 * bytes) {
    return refuse(`${what} is not ${bytes} bytes of hex`);
  }
  return fromHex(v);
}

function triesOf(v: unknown, max: number, what: string): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) {
    return refuse(`${what} tries left is not a whole number of 0..${max}`);
  }
  return v as number;
}

function secretOf(v: unknown, max: number, what: string): { block: Uint8Array; retriesLeft: number } {
  if (!isObject(v)) return refuse(`${what} is missing`);
  return {
    block: hexOf(v.block, PIN_BLOCK_BYTES, `${what} block`),
    retriesLeft: triesOf(v.retriesLeft, max, what),
  };
}

function recordsOf(v: unknown, fs: VirtualFileSystem): Map<VirtualEf, Uint8Array[]> {
  if (!isObject(v)) return refuse('records are missing');
  const efs = writableRecordEfs(fs.mf);
  for (const p of Object.keys(v)) if (!efs.has(p)) refuse(`EF ${p} is not on this card`);
  const out = new Map<VirtualEf, Uint8Array[]>();
  for (const [p, ef] of efs) {
    const list = v[p];
    if (ef.body.kind !== 'records') continue;
    const { records, recordLength } = ef.body;
    if (!Array.isArray(list)) return refuse(`EF ${p} is missing`);
    if (list.length !== records.length)
      refuse(`EF ${p} has ${list.length} records, the card ${records.length}`);
    out.set(
      ef,
      list.map((r, i) => hexOf(r, recordLength, `EF ${p} record ${i + 1}`)),
    );
  }
  return out;
}

function seqMsOf(v: unknown): readonly number[] | undefined {
  if (v === undefined) return undefined;
  const ok =
    Array.isArray(v) &&
    v.length === IND_COUNT &&
    v.every((s) => Number.isInteger(s) && s >= 0 && s <= SEQ_MAX);
  return ok ? (v as number[]) : refuse(`seqMs is not ${IND_COUNT} whole numbers of 0..2^43-1`);
}

/**
 * Checks a memory (parsed JSON, so of any shape) against the card built
 * from the profile: same ICCID and IMSI, the same writable record EFs with
 * the same record count and length, counters within their maximum. Throws
 * UiccError 'bad-argument' naming the first thing that does not fit.
 */
export function checkMemory(
  memory: unknown,
  card: { fs: VirtualFileSystem; iccid: string; imsi: string; pinTries: number; pukTries: number },
): CheckedMemory {
  if (!isObject(memory)) return refuse('not an object');
  if (memory.version !== MEMORY_VERSION)
    refuse(`version ${String(memory.version)}, expected ${MEMORY_VERSION}`);
  if (memory.iccid !== card.iccid)
    refuse(`it is of ICCID ${String(memory.iccid)}, this card's is ${card.iccid}`);
  if (memory.imsi !== card.imsi) refuse(`it is of IMSI ${String(memory.imsi)}, this card's is ${card.imsi}`);
  const pin = secretOf(memory.pin1, card.pinTries, 'PIN1');
  const enabled = (memory.pin1 as Record<string, unknown>).enabled;
  if (typeof enabled !== 'boolean') refuse('PIN1 enabled is not true or false');
  return {
    pin1: { ...pin, enabled: enabled as boolean },
    puk1: secretOf(memory.puk1, card.pukTries, 'PUK1'),
    records: recordsOf(memory.records, card.fs),
    seqMs: seqMsOf(memory.seqMs),
  };
}
