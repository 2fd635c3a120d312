import type { ErrorCode, Reply } from '../../core/protocol/index.js';
import type { AuthenticationCentre } from '../aka-auc.js';
import type { Logger } from '../logger.js';
import type { ServerLog } from '../server-log.js';
import type { Session, Sessions } from '../sessions.js';
import type { AuditEntry, SyncStore, TerminalRow } from '../store/sync-store.js';
import type { UploadLimits } from '../sync/upload.js';

/** What every handler may use: the store, the live sessions, the clock, the limits, the way out. */
export interface RequestDeps {
  store: SyncStore;
  sessions: Sessions;
  logger: Logger;
  /** The operator's lines: refusals and syncs. */
  log: ServerLog;
  now: () => number;
  limits: UploadLimits & { maxMessageBytes: number };
  /** Publishes a reply or notice on a down topic, QoS 1; compressed when worth it if `compress`. */
  publish: (topic: string, reply: Reply, compress?: boolean) => Promise<void>;
  /** Challenges and checks the cards of subscribers with an AKA key. */
  auc: AuthenticationCentre;
  /** One of several broker processes: a terminal online elsewhere is not in `sessions`. */
  clustered?: boolean;
}

/** An audit line before the dispatcher stamps it with the time and the terminal. */
export type AuditLine = Omit<AuditEntry, 'at' | 'terminalId'>;

/** What one request did, for its reply, its audit line and the sync's log line. */
export interface Handled {
  reply: Reply;
  /** Written by the dispatcher before the reply goes out; null = not audited. */
  audit: AuditLine | null;
  /** The line was already written, in the request's own transaction (an applied upload). */
  audited?: boolean;
  /** The connection is closed once the reply is out (a failed AKA proof). */
  endSession?: boolean;
}

/** Who a sync request speaks for, as its audit line names them. */
export type Who = Pick<AuditEntry, 'action' | 'subscriber' | 'terminalOwner'>;

/** A sync request from a registered pair (FIG. 14 S62 passed): the handlers' one argument besides the request. */
export interface SyncCall {
  deps: RequestDeps;
  session: Session;
  /** The terminal's row in the subscriber managing database, read for this request. */
  terminal: TerminalRow;
  who: Who;
}

/** An accepted request's audit line: nothing moved unless `over` says so. */
export function tally(over: Partial<AuditEntry>): AuditLine {
  return {
    subscriber: null,
    terminalOwner: null,
    action: 'request',
    outcome: 'accepted',
    reason: null,
    uploaded: 0,
    uploadedBytes: 0,
    downloaded: 0,
    downloadedBytes: 0,
    ...over,
  };
}

/** An `error` reply and the refused audit line that goes with it; the request changed nothing. */
export function refuse(
  req: number | null,
  code: ErrorCode,
  message: string,
  audit: Partial<AuditEntry>,
): Handled {
  return {
    reply: { type: 'error', req, code, message: message.slice(0, 500) },
    audit: tally({ ...audit, outcome: 'refused', reason: code === message ? code : `${code}: ${message}` }),
  };
}
