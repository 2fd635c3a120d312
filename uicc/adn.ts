import { packSwappedNibbles, swappedNibbles } from './bcd.js';
import { UiccError } from './errors.js';

/**
 * EF_ADN records (TS 51.011 §10.5.1; same layout in TS 31.102 §4.4.2.3):
 * X bytes of alpha identifier, then 14 bytes: BCD length, TON/NPI,
 * 10 bytes of dialling number, capability/configuration id, extension1 id.
 * An unused record is all FF.
 */
export const ADN_TRAILER_BYTES = 14;
/** 10 BCD bytes hold 20 digits; more would need EF_EXT1, which we never use. */
export const ADN_MAX_DIGITS = 20;

/** TON/NPI '81': unknown type of number, ISDN/telephony numbering plan (TS 24.008 §10.5.4.7). */
export const TON_NPI_UNKNOWN_ISDN = 0x81;

/** Extended BCD values of TS 51.011 §10.5.1 table: A = '*', B = '#', C = pause, D = wild, E = RFU. */
const EXTENDED: Record<string, number> = { '*': 0xa, '#': 0xb, p: 0xc, '?': 0xd };
const EXTENDED_CHARS = ['*', '#', 'p', '?'];

export interface AdnEntry {
  /** Alpha identifier bytes as stored (GSM default alphabet or UCS2), without FF padding. */
  readonly alpha: Uint8Array;
  /** Dialling number: digits 0-9 and * # p ?. */
  readonly number: string;
  readonly tonNpi: number;
}

export function isEmptyAdnRecord(record: Uint8Array): boolean {
  return record.every((b) => b === 0xff);
}

function alphaLength(record: Uint8Array): number {
  if (record.length < ADN_TRAILER_BYTES) {
    throw new UiccError('bad-response', `EF_ADN record of ${record.length} bytes is shorter than 14`);
  }
  return record.length - ADN_TRAILER_BYTES;
}

/** Encodes digits and * # p ? into BCD nibbles. Throws 'bad-argument' for other characters. */
export function dialStringToNibbles(number: string): number[] {
  return [...number].map((c) => {
    if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
    const ext = EXTENDED[c];
    if (ext === undefined) throw new UiccError('bad-argument', `"${c}" cannot be stored in an ADN number`);
    return ext;
  });
}

/** Decodes a record. Undefined for an unused record; throws 'bad-encoding' when the number field is inconsistent. */
export function decodeAdnRecord(record: Uint8Array): AdnEntry | undefined {
  if (isEmptyAdnRecord(record)) return undefined;
  const x = alphaLength(record);
  let alphaEnd = x;
  while (alphaEnd > 0 && record[alphaEnd - 1] === 0xff) alphaEnd--;
  const alpha = record.slice(0, alphaEnd);
  const bcdLength = record[x]!;
  if (bcdLength === 0xff || bcdLength === 0) return { alpha, number: '', tonNpi: record[x + 1]! };
  if (bcdLength > 11) throw new UiccError('bad-encoding', `EF_ADN BCD length ${bcdLength} exceeds 11`);
  const nibbles = swappedNibbles(record.slice(x + 2, x + 1 + bcdLength));
  const end = nibbles.indexOf(0x0f);
  const digits = end < 0 ? nibbles : nibbles.slice(0, end);
  const number = digits
    .map((n) => {
      if (n <= 9) return String(n);
      const c = EXTENDED_CHARS[n - 0xa];
      if (c === undefined) throw new UiccError('bad-encoding', 'EF_ADN: RFU BCD value E');
      return c;
    })
    .join('');
  return { alpha, number, tonNpi: record[x + 1]! };
}

/** Encodes a record of `recordLength` bytes. Throws 'bad-argument' if the alpha or number does not fit. */
export function encodeAdnRecord(entry: AdnEntry, recordLength: number): Uint8Array {
  const x = recordLength - ADN_TRAILER_BYTES;
  if (x < 0) throw new UiccError('bad-argument', `ADN record length ${recordLength} < 14`);
  if (entry.alpha.length > x)
    throw new UiccError('bad-argument', `alpha of ${entry.alpha.length} bytes > ${x}`);
  const nibbles = dialStringToNibbles(entry.number);
  if (nibbles.length > ADN_MAX_DIGITS) {
    throw new UiccError('bad-argument', `number of ${nibbles.length} digits > ${ADN_MAX_DIGITS}`);
  }
  const out = new Uint8Array(recordLength).fill(0xff);
  out.set(entry.alpha, 0);
  if (nibbles.length > 0) {
    const bcdBytes = Math.ceil(nibbles.length / 2);
    out[x] = 1 + bcdBytes; // TON/NPI byte + number bytes
    out[x + 1] = entry.tonNpi;
    out.set(packSwappedNibbles(nibbles, 10), x + 2);
  }
  return out;
}

/**
 * Alpha identifier in the GSM 7-bit default alphabet, unpacked (TS 23.038 §6.2.1).
 * Only characters whose GSM code equals their ASCII code are accepted: A–Z a–z 0–9, space and - . , : ; ! ? ( ) / + = * # % & ' " < >.
 */
export function gsmAlpha(text: string): Uint8Array {
  if (!/^[A-Za-z0-9 \-.,:;!?()/+=*#%&'"<>]*$/.test(text)) {
    throw new UiccError('bad-argument', `"${text}" uses characters outside the shared GSM/ASCII subset`);
  }
  return Uint8Array.from([...text].map((c) => c.charCodeAt(0)));
}
