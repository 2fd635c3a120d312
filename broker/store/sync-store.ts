import type { Category, Filters, RecordMeta } from '../../core/protocol/index.js';

/**
 * The server's storage (FIG. 2: subscriber managing database 30/30' and user
 * data storage area 51), behind one async interface so SQLite and PostgreSQL
 * pass the same contract suite (store.contract.ts), like Aedes persistences.
 *
 * Times are ms since the epoch. Hashes are opaque strings made by secrets.ts;
 * the store never sees a secret in the clear.
 */

/** FIG. 7a/7b: one subscriber (subscriber ID = IMSI). */
export interface SubscriberRow {
  subscriber: string;
  iccid: string | null;
  /** [0038]: the login password allocated to the user, as a salted slow hash. */
  loginPasswordHash: string | null;
  createdAt: number;
}

/** FIG. 7b: one terminal of a subscriber. */
export interface TerminalRow {
  terminalId: string;
  subscriber: string;
  /** Salted slow hash, or null when registered at a shop (FIG. 19 skips S23/S24). */
  passwordHash: string | null;
  /** The sync-target data, normalised ([0033]). */
  categories: Category[];
  /** [0033] finer criteria (folder, recency) on top of the categories; absent = none. */
  filters?: Filters | undefined;
  /** SHA-256 of the connection credential; null until the terminal claims one. */
  credentialHash: string | null;
  /** Lost or stolen: refused from then on. */
  revoked: boolean;
  createdAt: number;
  lastSeenAt: number | null;
  /** The last upload batch applied, and its stored acknowledgement (opaque bytes). */
  lastBatch: number | null;
  lastAck: Uint8Array | null;
}

/**
 * TS 33.102 AKA for a subscriber's card: its K and OPc sealed under the
 * server key `keyId` (broker/aka-vault.ts: never in the clear here), and the
 * last SQN the server issued (SEQ ‖ IND, Annex C.1), which only grows.
 */
export interface AkaRow {
  subscriber: string;
  keyId: string;
  sealed: Uint8Array;
  sqn: number;
  createdAt: number;
}

/** A one-time registration code, issued by the operator or by shop registration. */
export interface CodeRow {
  codeHash: string;
  subscriber: string;
  /** Shop registration binds the code to one terminal; null = any terminal. */
  terminalId: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/** A record of the user data storage area, in its current state. */
export interface StoredRecord {
  category: Category;
  recordId: string;
  /** null = deleted ([0060]); the tombstone keeps its place in the sequence. */
  body: Uint8Array | null;
  /** The subscriber's sequence number of the change that produced this state. */
  seq: number;
  /** The terminal whose change this is. */
  origin: string;
  /** The editing terminal's clock. */
  editedAt: number;
  /** [0033] folder and date, and a title ([0094] stubs); absent when the record says nothing. */
  meta?: RecordMeta | undefined;
}

/** A byte range of a record's body ([0094]: a part of a stubbed record's substance). */
export interface BodyRange {
  /** The seq of the record's current state, the one the bytes are from. */
  seq: number;
  /** The whole body's length. */
  size: number;
  /** The bytes from the range's offset, at most its length, fewer at the end of the body. */
  bytes: Uint8Array;
}

/**
 * [0094], the upload counterpart of a stub: a body a terminal is uploading in
 * parts (`upload-part`), staged until an upload change names it. One per
 * terminal and record; the parts lie beside it, in order, without gaps.
 */
export interface Staging {
  terminalId: string;
  category: Category;
  recordId: string;
  /** The subscriber the terminal uploaded it for. */
  subscriber: string;
  /** The whole body's length and SHA-256, as the terminal announced them. */
  size: number;
  hash: Uint8Array;
  /** Bytes staged so far: where the next part starts (= size once complete). */
  got: number;
  /** When it is dropped if no part or upload came (ms since the epoch). */
  expiresAt: number;
}

/** Names a staging: one per terminal and record. */
export interface StagingKey {
  terminalId: string;
  category: Category;
  recordId: string;
}

/** One staged part: `bytes` from `offset` of the body. */
export interface StagedPart {
  offset: number;
  bytes: Uint8Array;
}

/** A record state to write; the store gives it the next sequence number. */
export type RecordWrite = Omit<StoredRecord, 'seq'>;

/** One entry of the ordered change log. */
export interface ChangeLogEntry {
  seq: number;
  category: Category;
  recordId: string;
  origin: string;
  deleted: boolean;
  at: number;
}

export type AuditAction =
  | 'connect'
  | 'register'
  | 'upload'
  | 'download'
  | 'set-categories'
  | 'probe'
  | 'fetch'
  | 'upload-part'
  | 'aka'
  | 'revoke'
  | 'request';

/** One line of the sync audit log: who, when, which terminal, what, and whether it was refused and why. */
export interface AuditEntry {
  at: number;
  /** The subscriber the request named (or authenticated as). */
  subscriber: string | null;
  terminalId: string | null;
  /** The subscriber the terminal is registered to, when that differs ([0009]: a stranger's SIM). */
  terminalOwner: string | null;
  action: AuditAction;
  outcome: 'accepted' | 'refused';
  reason: string | null;
  uploaded: number;
  uploadedBytes: number;
  downloaded: number;
  downloadedBytes: number;
}

/**
 * Reads and writes inside one transaction: all or nothing, isolated from
 * other transactions. Only this object may be used inside `transaction`.
 */
export interface SyncTx {
  getSubscriber(subscriber: string): Promise<SubscriberRow | undefined>;
  /** Inserts or replaces. */
  putSubscriber(row: SubscriberRow): Promise<void>;
  getTerminal(terminalId: string): Promise<TerminalRow | undefined>;
  /** Inserts or replaces; the subscriber must exist. */
  putTerminal(row: TerminalRow): Promise<void>;
  getCode(codeHash: string): Promise<CodeRow | undefined>;
  /** Inserts or replaces; the subscriber must exist. */
  putCode(row: CodeRow): Promise<void>;
  getAka(subscriber: string): Promise<AkaRow | undefined>;
  /** Inserts or replaces; the subscriber must exist. */
  putAka(row: AkaRow): Promise<void>;
  /** Drops the subscriber's AKA key: no proof is asked of its card any more. */
  deleteAka(subscriber: string): Promise<void>;
  getRecord(subscriber: string, category: Category, recordId: string): Promise<StoredRecord | undefined>;
  /**
   * Writes a record's new state with the subscriber's next sequence number
   * (monotonic per subscriber, never reused), appends it to the change log
   * stamped `at`, and returns that number. The subscriber must exist.
   */
  putRecord(subscriber: string, record: RecordWrite, at: number): Promise<number>;
  /** The subscriber's latest sequence number (0 before any change). */
  latestSeq(subscriber: string): Promise<number>;
  appendAudit(entry: AuditEntry): Promise<void>;

  // [0094] upload staging. Call after getTerminal of the terminal in the same
  // transaction: on PostgreSQL that read takes the owner's lock, which keeps a
  // terminal's parts and uploads in order across broker processes.

  /** The terminal's staging of a record (expired or not: the caller compares `expiresAt`). */
  getStaging(key: StagingKey): Promise<Staging | undefined>;
  /** Starts a staging with no bytes (`got` is taken as 0), replacing any of the same key and its parts. */
  startStaging(row: Staging): Promise<void>;
  /**
   * Stores the part at `offset`, which the caller made sure is the staging's
   * `got`, and moves `got` past it and `expiresAt` to the value given.
   */
  appendStagedPart(key: StagingKey, offset: number, bytes: Uint8Array, expiresAt: number): Promise<void>;
  /** The staged parts that start at or after `from`, in order, at most `limit` of them. */
  stagedParts(key: StagingKey, from: number, limit: number): Promise<StagedPart[]>;
  /** Drops a staging and its parts; without `key`'s record, every staging of the terminal. */
  dropStaging(key: StagingKey | { terminalId: string }): Promise<void>;
}

export interface RecordQuery {
  subscriber: string;
  /** Records whose seq is greater than this … */
  after: number;
  /** … and at most this. */
  upTo: number;
  /** Only these categories. */
  categories: readonly Category[];
  limit: number;
  /**
   * Stop once the bodies returned add up to this many bytes: the row that
   * reaches it is the last one (so at least one row comes, however large).
   * A download page reads what it can send, not `limit` bodies of any size
   * (issue 20: 1 MB photos made every 256 KiB page read all that followed).
   */
  maxBodyBytes?: number;
}

/** Terminals revoked since a position in the audit log, and the position to ask from next. */
export interface Revocations {
  cursor: number;
  terminalIds: string[];
}

/**
 * A store's operations reject with errors of its own; an error with
 * `retryable: true` (PostgresStoreError 'unavailable' or 'conflict') means
 * nothing was applied and the same operation may succeed later, and the
 * server answers it as `unavailable`, not `internal`.
 */
export interface TransactionOptions {
  /** Wait for the commit to reach the disk before resolving (default true). */
  durable?: boolean;
}

export interface SyncStore {
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back
   * when it throws (the error is rethrown). Transactions do not nest. A store
   * may run `fn` again after a deadlock (PostgreSQL), so `fn` does its effects
   * through `tx` only.
   *
   * `durable: false` (issue 20) is for writes the other side can make again:
   * the transaction is all or nothing and visible at once as any other, but
   * a power cut or OS crash may lose it until the next durable commit, which
   * makes it durable too (both stores' logs are flushed as a whole). A staged
   * upload part is such a write: a terminal told the server holds less than
   * it acknowledged asks where to go on and sends the rest again
   * (core/engine/upload-parts.ts), and the upload that uses the staged body
   * is durable, so it never stands on a part that was lost.
   */
  transaction<T>(fn: (tx: SyncTx) => Promise<T>, options?: TransactionOptions): Promise<T>;

  getSubscriber(subscriber: string): Promise<SubscriberRow | undefined>;
  listSubscribers(): Promise<SubscriberRow[]>;
  getTerminal(terminalId: string): Promise<TerminalRow | undefined>;
  /** All terminals, or a subscriber's, ordered by terminal ID. */
  listTerminals(subscriber?: string): Promise<TerminalRow[]>;
  getCode(codeHash: string): Promise<CodeRow | undefined>;
  getAka(subscriber: string): Promise<AkaRow | undefined>;
  /** Every subscriber's AKA row, ordered by subscriber (key rotation walks them). */
  listAka(): Promise<AkaRow[]>;
  /**
   * Records when a terminal was last seen. Bookkeeping: atomic, but a store
   * may make it durable only with the next transaction (a power cut may lose
   * the last ones).
   */
  touchTerminal(terminalId: string, at: number): Promise<void>;
  latestSeq(subscriber: string): Promise<number>;
  getRecord(subscriber: string, category: Category, recordId: string): Promise<StoredRecord | undefined>;
  /**
   * Up to `length` bytes of a record's current body from `offset` (clamped to
   * the body's end), reading no more of the body than a store must; undefined
   * when there is no such record or it is deleted.
   */
  getBodyRange(
    subscriber: string,
    category: Category,
    recordId: string,
    offset: number,
    length: number,
  ): Promise<BodyRange | undefined>;
  /** The current records (each once, in its latest state) in the query's range, ordered by seq. */
  recordsAfter(query: RecordQuery): Promise<StoredRecord[]>;
  /**
   * [0094]: drops every staging whose `expiresAt` is at or before `now`, with
   * its parts, outside any transaction; how many were dropped.
   */
  expireStaging(now: number): Promise<number>;
  /** The change log after `after`, in order. */
  changeLog(subscriber: string, after?: number, limit?: number): Promise<ChangeLogEntry[]>;
  /**
   * Appends an audit line outside any transaction. Visible at once, but a
   * store may make it durable only with the next transaction (a power cut may
   * lose the last lines); a line that must survive with a change is appended
   * in that change's transaction (SyncTx.appendAudit).
   */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Audit entries naming the subscriber (as requester or as terminal owner), oldest first. */
  history(subscriber: string, limit?: number): Promise<AuditEntry[]>;
  /**
   * Terminals revoked (by any process using this store) after `cursor`, a
   * position in the audit log; `null` asks for the current position only.
   * Servers poll it, so a revoke from `simsync admin` closes the terminal's
   * connection on whichever server holds it.
   */
  revokedSince(cursor: number | null): Promise<Revocations>;
  close(): Promise<void>;
}
