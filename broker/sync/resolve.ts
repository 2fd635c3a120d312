import { type Category, conflictCopyId, type RecordMeta } from '../../core/protocol/index.js';

export { conflictCopyId };

import type { RecordWrite, StoredRecord } from '../store/sync-store.js';

/** One uploaded change, its tuple unpacked. */
export interface UploadedChange {
  category: Category;
  recordId: string;
  /** The server seq the edit started from; 0 = a new record. */
  base: number;
  editedAt: number;
  body: Uint8Array | null;
  meta?: RecordMeta | undefined;
}

/**
 * What to do with one uploaded change, given the record's current server
 * state. Pure, so every store implementation shares it.
 * - apply: the edit started from the current version (or is new, or creates
 *   again, later, a record whose current version is a deletion): store it.
 * - conflict-won / conflict-lost ([0044], [0068]): the record changed on the
 *   server since the edit's base. The later edit wins (ties: the larger
 *   terminal ID), and the losing version is kept as a copy so nothing is
 *   silently lost; `copy` is null when the loser was a deletion.
 */
export type Resolution =
  | { kind: 'apply' }
  | { kind: 'conflict-won'; copy: RecordWrite | null }
  | { kind: 'conflict-lost'; copy: RecordWrite | null };

function sameBody(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function copyOf(
  version: {
    category: Category;
    recordId: string;
    body: Uint8Array | null;
    editedAt: number;
    meta?: RecordMeta | undefined;
  },
  origin: string,
): RecordWrite | null {
  if (version.body === null) return null;
  return {
    category: version.category,
    recordId: conflictCopyId(version.recordId, origin, version.editedAt),
    body: version.body,
    origin,
    editedAt: version.editedAt,
    ...(version.meta === undefined ? {} : { meta: version.meta }),
  };
}

/** Does `incoming` (from `terminalId`) beat `current`? Later edit wins; a tie goes to the larger terminal ID. */
export function incomingWins(incoming: UploadedChange, terminalId: string, current: StoredRecord): boolean {
  if (incoming.editedAt !== current.editedAt) return incoming.editedAt > current.editedAt;
  return terminalId > current.origin;
}

export function resolve(
  current: StoredRecord | undefined,
  incoming: UploadedChange,
  terminalId: string,
): Resolution {
  // A new record, a record the server never had, or an edit of the current version.
  if (current === undefined || incoming.base === current.seq) return { kind: 'apply' };
  // A record created again after its deletion: nothing of the deleted one is left to lose,
  // so it is not a conflict (issue 21). One created before the deletion, never having seen
  // the record, is: the deletion is later and wins, the creation is kept as a copy.
  if (current.body === null && incoming.base === 0 && incomingWins(incoming, terminalId, current)) {
    return { kind: 'apply' };
  }
  // Both sides reached the same state (two deletions, or the same bytes): nothing to lose.
  if (sameBody(current.body, incoming.body)) return { kind: 'apply' };
  if (incomingWins(incoming, terminalId, current)) {
    return { kind: 'conflict-won', copy: copyOf(current, current.origin) };
  }
  return { kind: 'conflict-lost', copy: copyOf(incoming, terminalId) };
}
