/**
 * How one storage format keeps the FIG. 11-A terminal-ID list in the records
 * of a linear-fixed EF: one terminal ID per record.
 */
export interface TerminalIdCodec {
  /** 'free' = unused, may be taken; 'ours' = holds (or held) a terminal ID; 'foreign' = never touch. */
  classify(record: Uint8Array): 'free' | 'ours' | 'foreign';
  /** The ID in one of our records; undefined when the record does not decode (skipped, not fatal). */
  decode(record: Uint8Array): string | undefined;
  /** A record holding `id`. Throws UiccError 'bad-argument' when `id` cannot be stored in this format. */
  encode(id: string, recordLength: number): Uint8Array;
  /** The content of a record we give back (TS 51.011 §10.5.1: unused = all FF). */
  empty(recordLength: number): Uint8Array;
}

export interface RecordWrite {
  /** 1-based record number (absolute mode). */
  readonly record: number;
  readonly data: Uint8Array;
}

/** The IDs held in `records`, in record order. */
export function readIdList(records: readonly Uint8Array[], codec: TerminalIdCodec): string[] {
  const ids: string[] = [];
  for (const r of records) {
    if (codec.classify(r) !== 'ours') continue;
    const id = codec.decode(r);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The record updates that make `records` hold exactly `ids`, touching only
 * free records and our own: IDs go into those slots in record order, our
 * leftover records are emptied, unchanged records are not rewritten.
 * Returns undefined when there are not enough slots (the caller reports
 * 'no-space' and writes nothing). Encodes every ID before planning anything,
 * so a bad ID fails before any write.
 */
export function planIdListWrite(
  records: readonly Uint8Array[],
  ids: readonly string[],
  codec: TerminalIdCodec,
  recordLength: number,
): RecordWrite[] | undefined {
  const encoded = ids.map((id) => codec.encode(id, recordLength));
  const slots: number[] = [];
  records.forEach((r, i) => {
    if (codec.classify(r) !== 'foreign') slots.push(i);
  });
  if (encoded.length > slots.length) return undefined;
  const writes: RecordWrite[] = [];
  // New content first, then clearing, so a torn write leaves extra IDs rather than missing ones.
  slots.forEach((slot, i) => {
    const want = encoded[i];
    if (want !== undefined && !sameBytes(records[slot]!, want)) writes.push({ record: slot + 1, data: want });
  });
  const empty = codec.empty(recordLength);
  slots.slice(encoded.length).forEach((slot) => {
    if (codec.classify(records[slot]!) === 'ours') writes.push({ record: slot + 1, data: empty });
  });
  return writes;
}
