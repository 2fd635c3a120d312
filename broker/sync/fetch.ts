import type { FetchRequest, SubstanceReply } from '../../core/protocol/index.js';
import type { SyncStore, TerminalRow } from '../store/sync-store.js';

export type FetchOutcome =
  | { kind: 'part'; substance: Omit<SubstanceReply, 'type' | 'req'> }
  | { kind: 'gone'; reason: string };

/**
 * [0094]: a byte range of a stubbed record's substance. Only the version the
 * stub named is served, so a fetch resumed after a link drop never splices
 * two versions together; a newer version answers 'gone'.
 */
export async function fetchSubstance(
  store: SyncStore,
  terminal: TerminalRow,
  request: FetchRequest,
  maxBytes: number,
): Promise<FetchOutcome> {
  if (!terminal.categories.includes(request.category)) {
    return { kind: 'gone', reason: `category ${request.category} is not synced by this terminal` };
  }
  // Only the range is read: a large item fetched in chunks is not read whole per chunk.
  const length = Math.min(request.length, maxBytes);
  const part = await store.getBodyRange(
    request.subscriber,
    request.category,
    request.id,
    request.offset,
    length,
  );
  if (part === undefined || part.seq !== request.seq) {
    return { kind: 'gone', reason: `version ${request.seq} of ${request.id} is no longer current` };
  }
  const offset = Math.min(request.offset, part.size);
  return { kind: 'part', substance: { seq: part.seq, offset, size: part.size, bytes: part.bytes } };
}
