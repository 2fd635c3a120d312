import type { WireMeta } from './messages.js';
import type { RecordMeta } from './selection.js';

/**
 * [0033]: the fields of a record's meta that go on the wire, or undefined
 * when none is set, so a plain record's change carries no meta at all.
 */
export function toWireMeta(m: RecordMeta | undefined): WireMeta | undefined {
  if (m === undefined) return undefined;
  const meta: WireMeta = {};
  if (m.folder !== undefined) meta.folder = m.folder;
  if (m.date !== undefined) meta.date = m.date;
  if (m.title !== undefined) meta.title = m.title;
  return Object.keys(meta).length > 0 ? meta : undefined;
}
