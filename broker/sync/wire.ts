import { createHash } from 'node:crypto';
import { categoryCode, type WireChange, type WireMeta } from '../../core/protocol/index.js';
import type { StoredRecord } from '../store/sync-store.js';

/** A stored record as a change on the wire, its meta carried when it has any. */
export function toWire(record: StoredRecord): WireChange {
  const change: WireChange = [
    categoryCode(record.category),
    record.recordId,
    record.seq,
    record.editedAt,
    record.body,
  ];
  const meta = wireMeta(record);
  if (meta !== undefined) change.push(meta);
  return change;
}

/**
 * [0094]: the record as a stub: id, title, size and content hash, the body
 * left out, to be fetched on access.
 */
export function toStub(record: StoredRecord & { body: Uint8Array }): WireChange {
  const hash = new Uint8Array(createHash('sha256').update(record.body).digest());
  return [
    categoryCode(record.category),
    record.recordId,
    record.seq,
    record.editedAt,
    new Uint8Array(0),
    { ...wireMeta(record), stub: { size: record.body.length, hash } },
  ];
}

function wireMeta(record: StoredRecord): WireMeta | undefined {
  const m = record.meta;
  if (m === undefined) return undefined;
  const meta: WireMeta = {};
  if (m.folder !== undefined) meta.folder = m.folder;
  if (m.date !== undefined) meta.date = m.date;
  if (m.title !== undefined) meta.title = m.title;
  return Object.keys(meta).length > 0 ? meta : undefined;
}
