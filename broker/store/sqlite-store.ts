import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Category, categoryCode } from '../../core/protocol/index.js';
import { type Database, openDatabase, type Statement } from './sqlite-driver.js';
import {
  type AkaSql,
  type AuditSql,
  akaRow,
  auditEntry,
  bytes,
  type ChangeSql,
  type CodeSql,
  category,
  codeRow,
  filtersText,
  metaColumns,
  type RecordSql,
  type StagingSql,
  type SubscriberSql,
  stagingRow,
  storedRecord,
  subscriberRow,
  type TerminalSql,
  terminalRow,
  toMask,
} from './sqlite-rows.js';
import { migrate } from './sqlite-schema.js';
import type {
  AkaRow,
  AuditEntry,
  BodyRange,
  ChangeLogEntry,
  CodeRow,
  RecordQuery,
  RecordWrite,
  Revocations,
  StagedPart,
  Staging,
  StagingKey,
  StoredRecord,
  SubscriberRow,
  SyncStore,
  SyncTx,
  TerminalRow,
  TransactionOptions,
} from './sync-store.js';

/** How much of the database file is read through a memory map. */
const MMAP_BYTES = 256 * 1024 * 1024;

/** The statements, prepared once; every method is synchronous (better-sqlite3). */
class Queries {
  private readonly cache = new Map<string, Statement>();
  constructor(private readonly db: Database) {}

  private sql(text: string): Statement {
    let s = this.cache.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.cache.set(text, s);
    }
    return s;
  }

  getSubscriber(subscriber: string): SubscriberRow | undefined {
    const r = this.sql('SELECT * FROM subscribers WHERE subscriber = ?').get(subscriber);
    return r ? subscriberRow(r as SubscriberSql) : undefined;
  }

  listSubscribers(): SubscriberRow[] {
    return (this.sql('SELECT * FROM subscribers ORDER BY subscriber').all() as SubscriberSql[]).map(
      subscriberRow,
    );
  }

  putSubscriber(row: SubscriberRow): void {
    this.sql(
      `INSERT INTO subscribers (subscriber, iccid, login_password_hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (subscriber) DO UPDATE SET iccid = excluded.iccid,
         login_password_hash = excluded.login_password_hash, created_at = excluded.created_at`,
    ).run(row.subscriber, row.iccid, row.loginPasswordHash, row.createdAt);
  }

  getTerminal(terminalId: string): TerminalRow | undefined {
    const r = this.sql('SELECT * FROM terminals WHERE terminal_id = ?').get(terminalId);
    return r ? terminalRow(r as TerminalSql) : undefined;
  }

  listTerminals(subscriber?: string): TerminalRow[] {
    const rows =
      subscriber === undefined
        ? this.sql('SELECT * FROM terminals ORDER BY terminal_id').all()
        : this.sql('SELECT * FROM terminals WHERE subscriber = ? ORDER BY terminal_id').all(subscriber);
    return (rows as TerminalSql[]).map(terminalRow);
  }

  putTerminal(row: TerminalRow): void {
    this.sql(
      `INSERT OR REPLACE INTO terminals (terminal_id, subscriber, password_hash, categories, credential_hash,
         revoked, created_at, last_seen_at, last_batch, last_ack, filters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.terminalId,
      row.subscriber,
      row.passwordHash,
      toMask(row.categories),
      row.credentialHash,
      row.revoked ? 1 : 0,
      row.createdAt,
      row.lastSeenAt,
      row.lastBatch,
      row.lastAck,
      filtersText(row.filters),
    );
  }

  touchTerminal(terminalId: string, at: number): void {
    this.sql('UPDATE terminals SET last_seen_at = ? WHERE terminal_id = ?').run(at, terminalId);
  }

  getCode(codeHash: string): CodeRow | undefined {
    const r = this.sql('SELECT * FROM codes WHERE code_hash = ?').get(codeHash);
    return r ? codeRow(r as CodeSql) : undefined;
  }

  putCode(row: CodeRow): void {
    this.sql(
      `INSERT OR REPLACE INTO codes (code_hash, subscriber, terminal_id, created_at, expires_at, used_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(row.codeHash, row.subscriber, row.terminalId, row.createdAt, row.expiresAt, row.usedAt);
  }

  getAka(subscriber: string): AkaRow | undefined {
    const r = this.sql('SELECT * FROM aka_keys WHERE subscriber = ?').get(subscriber);
    return r ? akaRow(r as AkaSql) : undefined;
  }

  listAka(): AkaRow[] {
    return (this.sql('SELECT * FROM aka_keys ORDER BY subscriber').all() as AkaSql[]).map(akaRow);
  }

  putAka(row: AkaRow): void {
    this.sql(
      'INSERT OR REPLACE INTO aka_keys (subscriber, key_id, sealed, sqn, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(row.subscriber, row.keyId, row.sealed, row.sqn, row.createdAt);
  }

  deleteAka(subscriber: string): void {
    this.sql('DELETE FROM aka_keys WHERE subscriber = ?').run(subscriber);
  }

  getRecord(subscriber: string, cat: Category, recordId: string): StoredRecord | undefined {
    const r = this.sql('SELECT * FROM records WHERE subscriber = ? AND category = ? AND record_id = ?').get(
      subscriber,
      categoryCode(cat),
      recordId,
    );
    return r ? storedRecord(r as RecordSql) : undefined;
  }

  getBodyRange(
    subscriber: string,
    cat: Category,
    recordId: string,
    offset: number,
    length: number,
  ): BodyRange | undefined {
    const r = this.sql(
      `SELECT seq, length(body) AS size, substr(body, ?, ?) AS part FROM records
       WHERE subscriber = ? AND category = ? AND record_id = ? AND body IS NOT NULL`,
    ).get(Math.max(0, offset) + 1, Math.max(0, length), subscriber, categoryCode(cat), recordId) as
      | { seq: number; size: number; part: Buffer | null }
      | undefined;
    if (!r) return undefined;
    return { seq: r.seq, size: r.size, bytes: bytes(r.part) ?? new Uint8Array(0) };
  }

  putRecord(subscriber: string, record: RecordWrite, at: number): number {
    const next = this.sql(
      'UPDATE subscribers SET latest_seq = latest_seq + 1 WHERE subscriber = ? RETURNING latest_seq',
    ).get(subscriber) as { latest_seq: number } | undefined;
    if (!next) throw new Error(`unknown subscriber ${subscriber}`);
    const seq = next.latest_seq;
    const code = categoryCode(record.category);
    this.sql(
      `INSERT OR REPLACE INTO records (subscriber, category, record_id, body, seq, origin, edited_at,
         folder, data_date, title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      subscriber,
      code,
      record.recordId,
      record.body,
      seq,
      record.origin,
      record.editedAt,
      ...metaColumns(record.meta),
    );
    this.sql(
      `INSERT INTO changes (subscriber, seq, category, record_id, origin, deleted, at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(subscriber, seq, code, record.recordId, record.origin, record.body === null ? 1 : 0, at);
    return seq;
  }

  latestSeq(subscriber: string): number {
    const r = this.sql('SELECT latest_seq FROM subscribers WHERE subscriber = ?').get(subscriber) as
      | { latest_seq: number }
      | undefined;
    return r?.latest_seq ?? 0;
  }

  recordsAfter(q: RecordQuery): StoredRecord[] {
    const statement = this.sql(
      `SELECT * FROM records WHERE subscriber = ? AND seq > ? AND seq <= ? AND ((1 << category) & ?) != 0
       ORDER BY seq LIMIT ?`,
    );
    const args = [q.subscriber, q.after, q.upTo, toMask(q.categories), q.limit];
    if (q.maxBodyBytes === undefined) return (statement.all(...args) as RecordSql[]).map(storedRecord);
    // Row by row: SQLite reads a row's body only when it is stepped to, so none past the cap is read.
    const rows: StoredRecord[] = [];
    let bytes = 0;
    for (const row of statement.iterate(...args) as IterableIterator<RecordSql>) {
      const record = storedRecord(row);
      rows.push(record);
      bytes += record.body?.length ?? 0;
      if (bytes >= q.maxBodyBytes) break;
    }
    return rows;
  }

  changeLog(subscriber: string, after: number, limit: number): ChangeLogEntry[] {
    const rows = this.sql('SELECT * FROM changes WHERE subscriber = ? AND seq > ? ORDER BY seq LIMIT ?').all(
      subscriber,
      after,
      limit,
    ) as ChangeSql[];
    return rows.map((r) => ({
      seq: r.seq,
      category: category(r.category),
      recordId: r.record_id,
      origin: r.origin,
      deleted: r.deleted !== 0,
      at: r.at,
    }));
  }

  appendAudit(e: AuditEntry): void {
    this.sql(
      `INSERT INTO audit (at, subscriber, terminal_id, terminal_owner, action, outcome, reason,
         uploaded, uploaded_bytes, downloaded, downloaded_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.at,
      e.subscriber,
      e.terminalId,
      e.terminalOwner,
      e.action,
      e.outcome,
      e.reason,
      e.uploaded,
      e.uploadedBytes,
      e.downloaded,
      e.downloadedBytes,
    );
  }

  revokedSince(cursor: number | null): Revocations {
    if (cursor === null) {
      const row = this.sql('SELECT coalesce(max(id), 0) AS id FROM audit').get() as { id: number };
      return { cursor: row.id, terminalIds: [] };
    }
    // The rowid range makes this a scan of the lines added since, not of the log.
    const rows = this.sql(
      `SELECT id, terminal_id FROM audit WHERE id > ? AND action = 'revoke' AND outcome = 'accepted'
       ORDER BY id`,
    ).all(cursor) as { id: number; terminal_id: string | null }[];
    const last = this.sql('SELECT coalesce(max(id), 0) AS id FROM audit').get() as { id: number };
    return {
      cursor: Math.max(cursor, last.id),
      terminalIds: rows.flatMap((r) => (r.terminal_id === null ? [] : [r.terminal_id])),
    };
  }

  getStaging(k: StagingKey): Staging | undefined {
    const r = this.sql('SELECT * FROM staging WHERE terminal_id = ? AND category = ? AND record_id = ?').get(
      k.terminalId,
      categoryCode(k.category),
      k.recordId,
    );
    return r ? stagingRow(r as StagingSql) : undefined;
  }

  startStaging(row: Staging): void {
    // The old row's parts go with it (ON DELETE CASCADE).
    this.dropStaging(row);
    this.sql(
      `INSERT INTO staging (terminal_id, category, record_id, subscriber, size, hash, got, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?)`,
    ).run(
      row.terminalId,
      categoryCode(row.category),
      row.recordId,
      row.subscriber,
      row.size,
      row.hash,
      row.expiresAt,
    );
  }

  appendStagedPart(k: StagingKey, offset: number, part: Uint8Array, expiresAt: number): void {
    const code = categoryCode(k.category);
    this.sql(
      `INSERT INTO staged_parts (terminal_id, category, record_id, part_offset, bytes) VALUES (?, ?, ?, ?, ?)`,
    ).run(k.terminalId, code, k.recordId, offset, part);
    this.sql(
      'UPDATE staging SET got = ?, expires_at = ? WHERE terminal_id = ? AND category = ? AND record_id = ?',
    ).run(offset + part.length, expiresAt, k.terminalId, code, k.recordId);
  }

  stagedParts(k: StagingKey, from: number, limit: number): StagedPart[] {
    const rows = this.sql(
      `SELECT part_offset, bytes FROM staged_parts
       WHERE terminal_id = ? AND category = ? AND record_id = ? AND part_offset >= ? ORDER BY part_offset LIMIT ?`,
    ).all(k.terminalId, categoryCode(k.category), k.recordId, from, limit) as {
      part_offset: number;
      bytes: Buffer;
    }[];
    return rows.map((r) => ({ offset: r.part_offset, bytes: bytes(r.bytes) ?? new Uint8Array(0) }));
  }

  dropStaging(k: StagingKey | { terminalId: string }): void {
    if ('recordId' in k) {
      this.sql('DELETE FROM staging WHERE terminal_id = ? AND category = ? AND record_id = ?').run(
        k.terminalId,
        categoryCode(k.category),
        k.recordId,
      );
      return;
    }
    this.sql('DELETE FROM staging WHERE terminal_id = ?').run(k.terminalId);
  }

  expireStaging(now: number): number {
    return this.sql('DELETE FROM staging WHERE expires_at <= ?').run(now).changes;
  }

  history(subscriber: string, limit: number): AuditEntry[] {
    const rows = this.sql(
      `SELECT * FROM (SELECT * FROM audit WHERE subscriber = ? OR terminal_owner = ? ORDER BY id DESC LIMIT ?)
       ORDER BY id`,
    ).all(subscriber, subscriber, limit) as AuditSql[];
    return rows.map(auditEntry);
  }
}

class SqliteTx implements SyncTx {
  constructor(private readonly q: Queries) {}
  getSubscriber = async (s: string) => this.q.getSubscriber(s);
  putSubscriber = async (row: SubscriberRow) => this.q.putSubscriber(row);
  getTerminal = async (t: string) => this.q.getTerminal(t);
  putTerminal = async (row: TerminalRow) => this.q.putTerminal(row);
  getCode = async (h: string) => this.q.getCode(h);
  putCode = async (row: CodeRow) => this.q.putCode(row);
  getAka = async (s: string) => this.q.getAka(s);
  putAka = async (row: AkaRow) => this.q.putAka(row);
  deleteAka = async (s: string) => this.q.deleteAka(s);
  getRecord = async (s: string, c: Category, id: string) => this.q.getRecord(s, c, id);
  putRecord = async (s: string, r: RecordWrite, at: number) => this.q.putRecord(s, r, at);
  latestSeq = async (s: string) => this.q.latestSeq(s);
  appendAudit = async (e: AuditEntry) => this.q.appendAudit(e);
  getStaging = async (k: StagingKey) => this.q.getStaging(k);
  startStaging = async (row: Staging) => this.q.startStaging(row);
  appendStagedPart = async (k: StagingKey, offset: number, part: Uint8Array, expiresAt: number) =>
    this.q.appendStagedPart(k, offset, part, expiresAt);
  stagedParts = async (k: StagingKey, from: number, limit: number) => this.q.stagedParts(k, from, limit);
  dropStaging = async (k: StagingKey | { terminalId: string }) => this.q.dropStaging(k);
}

/**
 * SyncStore on SQLite (better-sqlite3). One connection; every operation runs
 * in turn, so a transaction may await without another operation slipping in.
 * WAL + synchronous=FULL: a committed transaction survives power loss. The
 * bookkeeping writes made outside transactions (touchTerminal, appendAudit)
 * skip their own fsync and become durable with the next transaction.
 *
 * Group commit: transactions asked for while the store is busy (the fsync of
 * a COMMIT blocks the process, and uploads from other terminals queue up
 * meanwhile) run one after another inside ONE transaction, each in its own
 * savepoint, and share its COMMIT and its fsync. A group waits one turn of
 * the event loop before it starts, for what was read in that turn to join;
 * an idle store pays that turn and no more. Each member still succeeds or
 * fails alone: a failing one is rolled back to its savepoint and the others
 * go on, and none resolves before the COMMIT is durable.
 */
export class SqliteSyncStore implements SyncStore {
  private readonly db: Database;
  private readonly q: Queries;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The group of transactions waiting for their turn, open to more until it starts. */
  private forming: GroupMember[] | undefined;
  /** COMMITs made so far: a group of transactions counts once. */
  commits = 0;
  /** Of those, COMMITs made without an fsync: groups of `durable: false` transactions only. */
  relaxedCommits = 0;

  constructor(path: string) {
    if (path !== ':memory:') {
      // Secrets' hashes and everyone's data: readable by the server's user only.
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600));
    }
    this.db = openDatabase(path);
    this.db.pragma('journal_mode = WAL');
    if (path !== ':memory:') {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
    }
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    // Reads through a memory map: a range of a large body ([0094] fetch) then
    // costs a copy, not one read(2) per page of it. Writes still go through the WAL.
    this.db.pragma(`mmap_size = ${MMAP_BYTES}`);
    migrate(this.db);
    this.q = new Queries(this.db);
  }

  /** Runs `fn` after every operation queued before it has finished. */
  private exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.queue
      .then(() => {
        if (this.closed) throw new Error('store is closed');
        return fn();
      })
      .catch((e: unknown) => {
        throw diskFull(e);
      });
    this.queue = run.catch(() => undefined);
    return run;
  }

  transaction<T>(fn: (tx: SyncTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const member: GroupMember = {
        fn,
        durable: options.durable ?? true,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (this.forming !== undefined && this.forming.length < MAX_GROUP) {
        this.forming.push(member);
        return;
      }
      const group = [member];
      this.forming = group;
      this.exclusive(async () => {
        // One turn of the event loop first: requests read in the same turn
        // (uploads that queued up during the last fsync) join this group.
        await new Promise((next) => setImmediate(next));
        if (this.forming === group) this.forming = undefined;
        return this.commitGroup(group);
      }).catch((e: unknown) => {
        // The store closed, or the group could not begin: none of it ran.
        if (this.forming === group) this.forming = undefined;
        for (const m of group) m.reject(e);
      });
    });
  }

  /**
   * One transaction for the whole group, a savepoint for each member. A
   * member's error rolls back its savepoint only; an error after which SQLite
   * itself rolled the transaction back (SQLITE_FULL, an I/O error) or a
   * failed COMMIT fails every member, since none of them was kept.
   */
  private async commitGroup(group: GroupMember[]): Promise<void> {
    // A group of writes none of which must reach the disk now commits without an fsync
    // (synchronous = NORMAL: WAL stays consistent; the next FULL commit syncs the log, these included).
    const relaxed = group.every((m) => !m.durable);
    if (relaxed) this.db.exec('PRAGMA synchronous = NORMAL');
    let settle: () => void;
    try {
      settle = await this.runGroup(group, relaxed);
    } finally {
      if (relaxed) this.db.exec('PRAGMA synchronous = FULL');
    }
    // Answered once the store is as every other transaction expects it.
    settle();
  }

  /** Runs the group; resolves how to answer its members. */
  private async runGroup(group: GroupMember[], relaxed: boolean): Promise<() => void> {
    this.db.exec('BEGIN IMMEDIATE');
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    for (const member of group) {
      this.db.exec('SAVEPOINT member');
      try {
        const value = await member.fn(new SqliteTx(this.q));
        this.db.exec('RELEASE member');
        outcomes.push({ ok: true, value });
      } catch (error) {
        if (!this.db.inTransaction) return this.failGroup(group, error);
        try {
          this.db.exec('ROLLBACK TO member');
          this.db.exec('RELEASE member');
        } catch {
          return this.failGroup(group, error);
        }
        outcomes.push({ ok: false, error: diskFull(error) });
      }
    }
    try {
      this.db.exec('COMMIT');
      this.commits++;
      if (relaxed) this.relaxedCommits++;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      return this.failGroup(group, error);
    }
    return () =>
      group.forEach((member, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) member.resolve(outcome.value);
        else member.reject(outcome?.error);
      });
  }

  private failGroup(group: GroupMember[], error: unknown): () => void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    return () => {
      for (const member of group) member.reject(diskFull(error));
    };
  }

  /**
   * Runs a one-statement write that need not reach the disk on its own
   * (synchronous = NORMAL: no fsync). It is atomic all the same, and in WAL
   * mode the next transaction's fsync makes it durable too, since the log is
   * synced as a whole.
   */
  private relaxed<T>(fn: () => T): Promise<T> {
    return this.exclusive(() => {
      this.db.exec('PRAGMA synchronous = NORMAL');
      try {
        return fn();
      } finally {
        this.db.exec('PRAGMA synchronous = FULL');
      }
    });
  }

  getSubscriber = (s: string) => this.exclusive(() => this.q.getSubscriber(s));
  listSubscribers = () => this.exclusive(() => this.q.listSubscribers());
  getTerminal = (t: string) => this.exclusive(() => this.q.getTerminal(t));
  listTerminals = (s?: string) => this.exclusive(() => this.q.listTerminals(s));
  getCode = (h: string) => this.exclusive(() => this.q.getCode(h));
  getAka = (s: string) => this.exclusive(() => this.q.getAka(s));
  listAka = () => this.exclusive(() => this.q.listAka());
  touchTerminal = (t: string, at: number) => this.relaxed(() => this.q.touchTerminal(t, at));
  latestSeq = (s: string) => this.exclusive(() => this.q.latestSeq(s));
  getRecord = (s: string, c: Category, id: string) => this.exclusive(() => this.q.getRecord(s, c, id));
  getBodyRange = (s: string, c: Category, id: string, offset: number, length: number) =>
    this.exclusive(() => this.q.getBodyRange(s, c, id, offset, length));
  recordsAfter = (query: RecordQuery) => this.exclusive(() => this.q.recordsAfter(query));
  changeLog = (s: string, after = 0, limit = 1000) => this.exclusive(() => this.q.changeLog(s, after, limit));
  expireStaging = (now: number) => this.exclusive(() => this.q.expireStaging(now));
  appendAudit = (e: AuditEntry) => this.relaxed(() => this.q.appendAudit(e));
  history = (s: string, limit = 1000) => this.exclusive(() => this.q.history(s, limit));
  revokedSince = (cursor: number | null) => this.exclusive(() => this.q.revokedSince(cursor));

  /** Closes the database once every queued operation has finished; closing twice is harmless. */
  close(): Promise<void> {
    const done = this.queue.then(() => {
      if (this.closed) return;
      this.closed = true;
      this.db.close();
    });
    this.queue = done.catch(() => undefined);
    return done;
  }
}

/** A transaction waiting in a group (SqliteSyncStore group commit). */
interface GroupMember {
  fn: (tx: SyncTx) => Promise<unknown>;
  /** Must reach the disk before it is answered (TransactionOptions.durable). */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Transactions sharing one COMMIT at most: bounds how long the first of them waits for the last. */
const MAX_GROUP = 64;

/**
 * SQLite's "database or disk is full" (SQLITE_FULL, also reported by a
 * COMMIT): the transaction was rolled back and nothing was applied, so the
 * same request may succeed once there is room. Marked `retryable`
 * (SyncStore), which the server answers `unavailable`, not `internal`.
 */
export class SqliteDiskFullError extends Error {
  override readonly name = 'SqliteDiskFullError';
  readonly retryable = true;
}

function diskFull(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== 'SQLITE_FULL') return e;
  return new SqliteDiskFullError(`the sync store's disk is full: ${(e as Error).message}`, { cause: e });
}

/** The database file's name when a data directory is given. */
export const SQLITE_FILE_NAME = 'simsync.db';

/**
 * Opens (creating and migrating as needed) a SQLite sync store: a database
 * file, an existing data directory (the file `simsync.db` in it), or ':memory:'.
 */
export function openSqliteStore(pathOrMemory: string): SqliteSyncStore {
  const isDir =
    pathOrMemory !== ':memory:' && existsSync(pathOrMemory) && statSync(pathOrMemory).isDirectory();
  return new SqliteSyncStore(isDir ? join(pathOrMemory, SQLITE_FILE_NAME) : pathOrMemory);
}
