import { USIM_AID_PREFIX } from './file-ids.js';
import { concatBytes } from './hex.js';
import { encodeTlv, findTlv, parseTlvs } from './tlv.js';

/** An application template record of EF_DIR (TS 102 221 §13.1): tag 61 holding AID (4F) and label (50). */
export interface ApplicationTemplate {
  readonly aid: Uint8Array;
  readonly label: string;
}

const TAG_TEMPLATE = 0x61;
const TAG_AID = 0x4f;
const TAG_LABEL = 0x50;

/** Encodes one EF_DIR record of `recordLength` bytes, FF padded. */
export function encodeApplicationTemplate(app: ApplicationTemplate, recordLength: number): Uint8Array {
  const label = Uint8Array.from([...app.label].map((c) => c.charCodeAt(0) & 0x7f));
  const tlv = encodeTlv(TAG_TEMPLATE, concatBytes(encodeTlv(TAG_AID, app.aid), encodeTlv(TAG_LABEL, label)));
  const out = new Uint8Array(recordLength).fill(0xff);
  out.set(tlv.subarray(0, recordLength));
  return out;
}

/**
 * Decodes an EF_DIR record; undefined for an empty (all FF) or unparsable
 * record, because a card's other applications are none of our business.
 */
export function decodeApplicationTemplate(record: Uint8Array): ApplicationTemplate | undefined {
  let end = record.length;
  while (end > 0 && record[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  try {
    const outer = parseTlvs(record.subarray(0, end));
    const body = findTlv(outer, TAG_TEMPLATE);
    if (body === undefined) return undefined;
    const inner = parseTlvs(body);
    const aid = findTlv(inner, TAG_AID);
    if (aid === undefined || aid.length < 5 || aid.length > 16) return undefined;
    const label = findTlv(inner, TAG_LABEL);
    return { aid, label: label === undefined ? '' : String.fromCharCode(...label) };
  } catch {
    return undefined;
  }
}

/** True for a USIM AID (RID A000000087, application code 1002). */
export function isUsimAid(aid: Uint8Array): boolean {
  return aid.length >= USIM_AID_PREFIX.length && USIM_AID_PREFIX.every((b, i) => aid[i] === b);
}
