import type { WireMeta } from './messages.js';
import type { RecordMeta } from './selection.js';

/**
 * [0033]: the one mapping between a record's meta and the meta a change
 * carries on the wire, used both ways by the terminal and the server. Only
 * folder, date and title cross; undefined when none is set, so a plain
 * record's change carries no meta at all.
 */
export function toWireMeta(m: RecordMeta | undefined): WireMeta | undefined {
  return pickMeta<WireMeta>(m);
}

/** The record meta a change's wire meta carries (its [0094] stub, if any, is not meta). */
export function fromWireMeta(m: WireMeta | undefined): RecordMeta | undefined {
  return pickMeta<RecordMeta>(m);
}

function pickMeta<T extends RecordMeta>(m: RecordMeta | undefined): T | undefined {
  if (m === undefined) return undefined;
  const meta = {} as T;
  if (m.folder !== undefined) meta.folder = m.folder;
  if (m.date !== undefined) meta.date = m.date;
  if (m.title !== undefined) meta.title = m.title;
  return Object.keys(meta).length > 0 ? meta : undefined;
}
