import { KEY_BYTES, opcOf } from './aka/milenage.js';
import { UiccError } from './errors.js';
import { fromHex } from './hex.js';

/** Which command classes a virtual card answers (real cards differ, TS 31.101 §1 vs TS 51.011). */
export type CardClasses = 'both' | 'usim-only' | 'sim-only';

/** A phonebook entry pre-loaded into EF_ADN (the user's own contacts). */
export interface PhonebookEntry {
  /** Alpha identifier in the GSM/ASCII shared subset (see adn.ts gsmAlpha). */
  readonly name: string;
  readonly number: string;
}

/** What to personalise a VirtualUicc with, plus how it behaves on the wire. */
export interface VirtualUiccProfile {
  /** ICCID digits, check digit included (Luhn-checked). */
  readonly iccid: string;
  /** IMSI, 6–15 digits. */
  readonly imsi: string;
  /** PIN1, 4–8 digits. Default '1234'. */
  readonly pin?: string;
  /** PUK1, 8 digits. Default '12345678'. */
  readonly puk?: string;
  /** Number of EF_ADN records. Default 20. */
  readonly adnRecords?: number;
  /** Alpha identifier length X of EF_ADN (record = X + 14 bytes). Default 14. */
  readonly adnAlphaLength?: number;
  /** Contacts written into EF_ADN records 1, 2, … at personalisation. */
  readonly phonebook?: readonly PhonebookEntry[];
  /** Whether the proprietary terminal-ID file DF 7FDE / EF 6F01 exists. Default true. */
  readonly terminalIdFile?: boolean;
  /** Records in EF 6F01. Default 8. */
  readonly terminalIdRecords?: number;
  /**
   * T=0 behaviour: a 3G command with response data and Le (case 4) answers
   * 61xx and the data waits for GET RESPONSE. Default false (data returned
   * directly, as over T=1). 2G SELECT always answers 9Fxx (TS 51.011 §9.4.1).
   */
  readonly t0GetResponse?: boolean;
  /**
   * Le must not exceed the data available (READ BINARY, STATUS, GET RESPONSE)
   * and must equal the record length (READ RECORD); otherwise the card answers
   * 6Cxx (3G, ISO 7816-3 §12.2.2) or 67xx (2G, TS 51.011 §9.4.4) with the right
   * length. Default false: the card returns what it has.
   */
  readonly strictLe?: boolean;
  /** Default 'both'. A class not answered gets SW 6E00. */
  readonly classes?: CardClasses;
  /**
   * PIN1 enabled (default true). Disabled, the card needs no PIN: PIN1
   * files read freely, the 3G PS_DO bit of PIN1 is 0 (TS 102 221
   * §11.1.1.4.10) while VERIFY without data still answers 63Cx as real cards
   * do, the 2G DF response has b8 of byte 14 set and VERIFY CHV1 answers 9808
   * (TS 51.011 §9.2.1, §9.2.9).
   */
  readonly pin1Enabled?: boolean;
  /**
   * ADF_USIM answers SELECT with sysmoISIM-SJA2's FCP shape: 84, A5, 8C, a
   * four-key C6 and no file identifier 83 (see virtual-adf-fcp.ts). Default
   * false: the compact FCP with 83 = 7FFF.
   */
  readonly adfFcpWithoutFileId?: boolean;
  /**
   * The subscriber key K (16 bytes, or 32 hex digits) for AUTHENTICATE and
   * RUN GSM ALGORITHM with Milenage (TS 35.205/35.206). With it goes `opc`
   * or `op` (OPc is then derived, TS 35.206 §4.1). A card without K answers
   * those commands 6D00, like a card without the algorithm.
   */
  readonly k?: Uint8Array | string;
  /** OPc, 16 bytes or 32 hex digits (give this or `op`, not both). */
  readonly opc?: Uint8Array | string;
  /** The operator variant OP, 16 bytes or 32 hex digits; the card keeps only the OPc derived from it. */
  readonly op?: Uint8Array | string;
  /** The card's 32 SEQ_MS values to start from (TS 33.102 Annex C.2.1); default all 0 (a fresh card). */
  readonly seqMs?: readonly number[];
}

/** The card's Milenage key material, checked and with OPc derived. */
export interface AkaKeys {
  readonly k: Uint8Array;
  readonly opc: Uint8Array;
}

type KeyFields = 'phonebook' | 'k' | 'opc' | 'op' | 'seqMs';

export type ResolvedProfile = Required<Omit<VirtualUiccProfile, KeyFields>> & {
  readonly phonebook: readonly PhonebookEntry[];
  /** Undefined: the card has no AKA algorithm. */
  readonly aka: AkaKeys | undefined;
  readonly seqMs: readonly number[] | undefined;
};

/** The key as bytes; the messages never repeat a key, not even a malformed one. */
function keyBytes(name: string, value: Uint8Array | string): Uint8Array {
  if (typeof value === 'string') {
    if (!/^[0-9a-fA-F]{32}$/.test(value)) throw new UiccError('bad-argument', `${name} is 32 hex digits`);
    return fromHex(value);
  }
  if (value.length !== KEY_BYTES)
    throw new UiccError('bad-argument', `${name} is 16 bytes, not ${value.length}`);
  return value.slice();
}

/** K with OPc (or OP, from which OPc is derived); 'bad-argument' for anything incomplete or malformed. */
function resolveKeys(p: VirtualUiccProfile): AkaKeys | undefined {
  if (p.k === undefined) {
    if (p.opc !== undefined || p.op !== undefined)
      throw new UiccError('bad-argument', 'OPc/OP given without K');
    return undefined;
  }
  const k = keyBytes('K', p.k);
  if ((p.opc === undefined) === (p.op === undefined)) {
    throw new UiccError('bad-argument', 'a card with K needs exactly one of OPc and OP');
  }
  const opc = p.opc !== undefined ? keyBytes('OPc', p.opc) : opcOf(k, keyBytes('OP', p.op!));
  return { k, opc };
}

export function resolveProfile(p: VirtualUiccProfile): ResolvedProfile {
  return {
    iccid: p.iccid,
    imsi: p.imsi,
    pin: p.pin ?? '1234',
    puk: p.puk ?? '12345678',
    adnRecords: p.adnRecords ?? 20,
    adnAlphaLength: p.adnAlphaLength ?? 14,
    phonebook: p.phonebook ?? [],
    terminalIdFile: p.terminalIdFile ?? true,
    terminalIdRecords: p.terminalIdRecords ?? 8,
    t0GetResponse: p.t0GetResponse ?? false,
    strictLe: p.strictLe ?? false,
    classes: p.classes ?? 'both',
    pin1Enabled: p.pin1Enabled ?? true,
    adfFcpWithoutFileId: p.adfFcpWithoutFileId ?? false,
    aka: resolveKeys(p),
    seqMs: p.seqMs,
  };
}
