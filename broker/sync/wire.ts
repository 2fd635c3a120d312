import { createHash } from 'node:crypto';
import { categoryCode, toWireMeta, type WireChange } from '../../core/protocol/index.js';
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
  const meta = toWireMeta(record.meta);
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
    { ...toWireMeta(record.meta), stub: { size: record.body.length, hash } },
  ];
}
