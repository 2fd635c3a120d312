/**
 * Errors of the sync engine. Callers switch on `kind` (STYLE.md §2).
 * - 'auth-refused': a terminal-side check of FIG. 9–12 failed; no request reached the server.
 * - 'server-refused': the server answered with an error reply (`code` says which).
 * - 'not-registered': this terminal has no registration to sync with.
 * - 'timeout' / 'link-down': the server did not answer in time, or the link broke.
 * - 'protocol': the server's answer did not parse or did not match the request.
 * - 'no-card': a sync was asked for with no SIM mounted.
 * - 'aborted': a time or byte limit ended the sync early; finished work is kept ([0085]);
 *   or a collective erase stopped because data was not on the server yet (FIG. 20).
 * - 'read-only': personal data may not be edited while no SIM is mounted ([0023]).
 */
export type SyncErrorKind =
  | 'auth-refused'
  | 'server-refused'
  | 'not-registered'
  | 'timeout'
  | 'link-down'
  | 'protocol'
  | 'no-card'
  | 'aborted'
  | 'read-only';

export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly kind: SyncErrorKind,
    message: string,
    /** Server error code for 'server-refused'; the failed check for 'auth-refused'. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
