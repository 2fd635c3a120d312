import { SyncError } from '../errors.js';
import { categoryFromCode, fromWireMeta, type WireChange } from '../protocol/index.js';
import type { IncomingChange } from '../store/record-store.js';

/** A change as the server sent it, as the store takes it. */
export function toIncoming(change: WireChange): IncomingChange {
  const [code, id, seq, editedAt, body, wireMeta] = change;
  const category = categoryFromCode(code);
  if (category === undefined) throw new SyncError('protocol', `unknown category code ${code}`);
  const incoming: IncomingChange = { category, id, seq, editedAt, body };
  const meta = fromWireMeta(wireMeta);
  if (meta !== undefined) incoming.meta = meta;
  if (wireMeta?.stub !== undefined) incoming.stub = wireMeta.stub;
  return incoming;
}
