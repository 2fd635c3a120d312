/**
 * [0068]: the losing side of a conflict is kept as a record of its own, so
 * nothing is silently lost: `<id>~conflict~<losingTerminalId>~<editedAt>`.
 * The server names the copy; every terminal recognises one when it arrives.
 */
const MAX_RECORD_ID = 200;
const MARK = '~conflict~';

/** The copy's id, the original id cut short if the whole would not fit a RecordId. */
export function conflictCopyId(recordId: string, losingTerminal: string, editedAt: number): string {
  const suffix = `${MARK}${losingTerminal}~${editedAt}`;
  return recordId.slice(0, MAX_RECORD_ID - suffix.length) + suffix;
}

export interface ConflictCopy {
  /** The record the copy was taken from (possibly cut short). */
  recordId: string;
  /** The terminal whose version lost. */
  losingTerminal: string;
  editedAt: number;
}

/** Reads a copy's id back; undefined for an ordinary record. */
export function parseConflictCopyId(id: string): ConflictCopy | undefined {
  const at = id.lastIndexOf(MARK);
  if (at < 0) return undefined;
  const rest = id.slice(at + MARK.length);
  const tilde = rest.lastIndexOf('~');
  if (tilde <= 0) return undefined;
  const editedAt = Number(rest.slice(tilde + 1));
  if (!Number.isSafeInteger(editedAt)) return undefined;
  return { recordId: id.slice(0, at), losingTerminal: rest.slice(0, tilde), editedAt };
}
