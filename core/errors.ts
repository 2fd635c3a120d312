import type { ErrorCode } from './protocol/messages.js';

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

/**
 * Which check the terminal itself failed ('auth-refused', FIG. 8–12 and the
 * card; 'read-only' / 'aborted', its local rules).
 */
export type LocalRefusalCode =
  /** The user cancelled a PIN or password prompt (or it timed out). */
  | 'cancelled'
  /** FIG. 9 S12: the card refused the PIN; the message says how many tries are left. */
  | 'pin-wrong'
  /** PIN1 is blocked: only the PUK helps. */
  | 'pin-blocked'
  | 'puk-wrong'
  | 'puk-blocked'
  /** FIG. 12 / FIG. 9: the terminal password. */
  | 'password-wrong'
  | 'password-weak'
  | 'no-password'
  /** FIG. 10-B S33: no subscriber is bound; or the SIM is not the bound one. */
  | 'not-bound'
  | 'subscriber-mismatch'
  /** FIG. 11-B S39: the terminal is not listed on the SIM. */
  | 'terminal-not-listed'
  /** local-access.ts: the card changed under an open grant, no SIM, reading refused, the server revoked this terminal. */
  | 'card-changed'
  | 'no-sim'
  | 'read-access'
  /** Claim 6: an edit outside the sync-target categories; a restore of one. */
  | 'category-not-synced'
  | 'not-a-target'
  /** FIG. 15 / FIG. 20: changes not on the server yet keep the step from happening. */
  | 'unsynced'
  /**
   * Sealed at rest (core/auth/data-key.ts): the data key did not unwrap with
   * this SIM and password; the SIM has PIN1 disabled; the SIM did not keep
   * the card secret; the data is sealed and no SIM is in.
   */
  | 'seal-refused'
  | 'seal-needs-pin'
  | 'seal-no-secret'
  | 'sealed'
  /** TS 33.102 §6.3.3: the SIM found the server's challenge not authentic (not its home network's key). */
  | 'aka-network'
  /** The server asks for AKA and the SIM (2G) or the reader (no APDUs) cannot answer it. */
  | 'aka-unsupported'
  /** The terminal's NV store is damaged (hal-linux names file and byte). */
  | 'store-corrupt';

/** Why the server refused a connection (CONNACK; core/net/server-session.ts). */
export type ConnectRefusalCode = 'connect-refused' | 'revoked' | 'throttled';

/**
 * Every code a SyncError carries: the server's error reply codes
 * (core/protocol ErrorCode) for 'server-refused', a refused connection, or
 * a check of the terminal's own.
 */
export type SyncErrorCode = ErrorCode | ConnectRefusalCode | LocalRefusalCode;

export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly kind: SyncErrorKind,
    message: string,
    /** Server error code for 'server-refused'; the failed check for 'auth-refused'. */
    readonly code?: SyncErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
