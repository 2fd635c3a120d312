import type { QueryResultRow } from 'pg';
import { type Category, categoryCode } from '../../core/protocol/index.js';
import {
  AKA_COLUMNS,
  type AkaSql,
  AUDIT_COLUMNS,
  type AuditSql,
  akaRow,
  auditEntry,
  type ChangePg,
  CODE_COLUMNS,
  type CodeSql,
  changeEntry,
  codeRow,
  pgTerminalRow,
  RECORD_COLUMNS,
  type RecordSql,
  STAGING_COLUMNS,
  type StagingSql,
  SUBSCRIBER_COLUMNS,
  type SubscriberSql,
  stagingRow,
  storedRecord,
  subscriberRow,
  TERMINAL_COLUMNS,
  type TerminalPg,
} from './postgres-rows.js';
import { bytes, filtersText, metaColumns, toMask } from './sqlite-rows.js';
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
  TerminalRow,
} from './sync-store.js';

/** Runs one statement on a pool or on a transaction's client, and gives its rows. */
export type Run = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;

/**
 * The lock a transaction takes on a subscriber's row (postgres-store.ts says
 * why): the one `UPDATE subscribers SET latest_seq` takes anyway, which
 * queues the subscriber's transactions but lets other transactions' foreign
 * key checks on the row through (FOR KEY SHARE).
 */
const LOCK = ' FOR NO KEY UPDATE';

/** substring() takes int4: no body comes near 2^31 bytes (bytea holds at most 1 GiB). */
const INT4_MAX = 2 ** 31 - 1;
const int4 = (n: number) => Math.min(Math.max(0, Math.floor(n)), INT4_MAX);

/** The statements of the PostgreSQL store, one method each; `lock` makes a read a locking read. */
export class PostgresQueries {
  constructor(private readonly run: Run) {}

  async getSubscriber(subscriber: string, lock = false): Promise<SubscriberRow | undefined> {
    const [r] = await this.run<SubscriberSql>(
      `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE subscriber = $1${lock ? LOCK : ''}`,
      [subscriber],
    );
    return r && subscriberRow(r);
  }

  /** Locks the subscriber's row and gives its latest seq; undefined for an unknown subscriber. */
  async lockSubscriber(subscriber: string): Promise<number | undefined> {
    const [r] = await this.run<{ latest_seq: number }>(
      `SELECT latest_seq FROM subscribers WHERE subscriber = $1${LOCK}`,
      [subscriber],
    );
    return r?.latest_seq;
  }

  async listSubscribers(): Promise<SubscriberRow[]> {
    const rows = await this.run<SubscriberSql>(
      `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers ORDER BY subscriber`,
    );
    return rows.map(subscriberRow);
  }

  async putSubscriber(row: SubscriberRow): Promise<void> {
    await this.run(
      `INSERT INTO subscribers (subscriber, iccid, login_password_hash, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (subscriber) DO UPDATE SET iccid = excluded.iccid,
         login_password_hash = excluded.login_password_hash, created_at = excluded.created_at`,
      [row.subscriber, row.iccid, row.loginPasswordHash, row.createdAt],
    );
  }

  async getTerminal(terminalId: string): Promise<TerminalRow | undefined> {
    const [r] = await this.run<TerminalPg>(
      `SELECT ${TERMINAL_COLUMNS} FROM terminals WHERE terminal_id = $1`,
      [terminalId],
    );
    return r && pgTerminalRow(r);
  }

  async listTerminals(subscriber?: string): Promise<TerminalRow[]> {
    const rows =
      subscriber === undefined
        ? await this.run<TerminalPg>(`SELECT ${TERMINAL_COLUMNS} FROM terminals ORDER BY terminal_id`)
        : await this.run<TerminalPg>(
            `SELECT ${TERMINAL_COLUMNS} FROM terminals WHERE subscriber = $1 ORDER BY terminal_id`,
            [subscriber],
          );
    return rows.map(pgTerminalRow);
  }

  async putTerminal(row: TerminalRow): Promise<void> {
    await this.run(
      `INSERT INTO terminals (${TERMINAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (terminal_id) DO UPDATE SET subscriber = excluded.subscriber,
         password_hash = excluded.password_hash, categories = excluded.categories,
         credential_hash = excluded.credential_hash, revoked = excluded.revoked, created_at = excluded.created_at,
         last_seen_at = excluded.last_seen_at, last_batch = excluded.last_batch, last_ack = excluded.last_ack,
         filters = excluded.filters`,
      [
        row.terminalId,
        row.subscriber,
        row.passwordHash,
        toMask(row.categories),
        row.credentialHash,
        row.revoked,
        row.createdAt,
        row.lastSeenAt,
        row.lastBatch,
        row.lastAck,
        filtersText(row.filters),
      ],
    );
  }

  async touchTerminal(terminalId: string, at: number): Promise<void> {
    await this.run('UPDATE terminals SET last_seen_at = $2 WHERE terminal_id = $1', [terminalId, at]);
  }

  async getCode(codeHash: string): Promise<CodeRow | undefined> {
    const [r] = await this.run<CodeSql>(`SELECT ${CODE_COLUMNS} FROM codes WHERE code_hash = $1`, [codeHash]);
    return r && codeRow(r);
  }

  async putCode(row: CodeRow): Promise<void> {
    await this.run(
      `INSERT INTO codes (${CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (code_hash) DO UPDATE SET subscriber = excluded.subscriber, terminal_id = excluded.terminal_id,
         created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = excluded.used_at`,
      [row.codeHash, row.subscriber, row.terminalId, row.createdAt, row.expiresAt, row.usedAt],
    );
  }

  async getAka(subscriber: string): Promise<AkaRow | undefined> {
    const [r] = await this.run<AkaSql>(`SELECT ${AKA_COLUMNS} FROM aka_keys WHERE subscriber = $1`, [
      subscriber,
    ]);
    return r && akaRow(r);
  }

  async listAka(): Promise<AkaRow[]> {
    const rows = await this.run<AkaSql>(`SELECT ${AKA_COLUMNS} FROM aka_keys ORDER BY subscriber`);
    return rows.map(akaRow);
  }

  async putAka(row: AkaRow): Promise<void> {
    await this.run(
      `INSERT INTO aka_keys (${AKA_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (subscriber) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed,
         sqn = excluded.sqn, created_at = excluded.created_at`,
      [row.subscriber, row.keyId, row.sealed, row.sqn, row.createdAt],
    );
  }

  async deleteAka(subscriber: string): Promise<void> {
    await this.run('DELETE FROM aka_keys WHERE subscriber = $1', [subscriber]);
  }

  async getRecord(subscriber: string, cat: Category, recordId: string): Promise<StoredRecord | undefined> {
    const [r] = await this.run<RecordSql>(
      `SELECT ${RECORD_COLUMNS} FROM records WHERE subscriber = $1 AND category = $2 AND record_id = $3`,
      [subscriber, categoryCode(cat), recordId],
    );
    return r && storedRecord(r);
  }

  /**
   * [0094]: substring() of a body stored out of line and uncompressed
   * (migrations.ts) fetches only the TOAST chunks of the range, and length()
   * reads the size from the TOAST pointer.
   */
  async getBodyRange(
    subscriber: string,
    cat: Category,
    recordId: string,
    offset: number,
    length: number,
  ): Promise<BodyRange | undefined> {
    const [r] = await this.run<{ seq: number; size: number; part: Buffer | null }>(BODY_RANGE_SQL, [
      int4(Math.max(0, offset) + 1),
      int4(length),
      subscriber,
      categoryCode(cat),
      recordId,
    ]);
    if (!r) return undefined;
    return { seq: r.seq, size: r.size, bytes: bytes(r.part) ?? new Uint8Array(0) };
  }

  /**
   * Takes the subscriber's next seq, writes the record's state and its change
   * log entry: one statement, one round trip. The UPDATE locks the
   * subscriber's row until the transaction ends. Undefined for an unknown subscriber.
   */
  async putRecord(subscriber: string, record: RecordWrite, at: number): Promise<number | undefined> {
    const [r] = await this.run<{ seq: number }>(
      `WITH next AS (
         UPDATE subscribers SET latest_seq = latest_seq + 1 WHERE subscriber = $1 RETURNING latest_seq AS seq
       ), stored AS (
         INSERT INTO records (subscriber, category, record_id, body, seq, origin, edited_at, folder, data_date, title)
         SELECT $1, $2::int, $3::text, $4::bytea, seq, $5::text, $6::bigint, $7::text, $8::bigint, $9::text FROM next
         ON CONFLICT (subscriber, category, record_id) DO UPDATE SET body = excluded.body, seq = excluded.seq,
           origin = excluded.origin, edited_at = excluded.edited_at, folder = excluded.folder,
           data_date = excluded.data_date, title = excluded.title
       ), logged AS (
         INSERT INTO changes (subscriber, seq, category, record_id, origin, deleted, at)
         SELECT $1, seq, $2::int, $3::text, $5::text, $4::bytea IS NULL, $10::bigint FROM next
       )
       SELECT seq FROM next`,
      [
        subscriber,
        categoryCode(record.category),
        record.recordId,
        record.body,
        record.origin,
        record.editedAt,
        ...metaColumns(record.meta),
        at,
      ],
    );
    return r?.seq;
  }

  async latestSeq(subscriber: string): Promise<number> {
    const [r] = await this.run<{ latest_seq: number }>(
      'SELECT latest_seq FROM subscribers WHERE subscriber = $1',
      [subscriber],
    );
    return r?.latest_seq ?? 0;
  }

  async recordsAfter(q: RecordQuery): Promise<StoredRecord[]> {
    const args = [q.subscriber, q.after, q.upTo, q.categories.map(categoryCode), q.limit];
    if (q.maxBodyBytes === undefined) {
      const rows = await this.run<RecordSql>(
        `SELECT ${RECORD_COLUMNS} FROM records
         WHERE subscriber = $1 AND seq > $2 AND seq <= $3 AND category = ANY($4::int[])
         ORDER BY seq LIMIT $5`,
        args,
      );
      return rows.map(storedRecord);
    }
    // The sizes first (octet_length reads a TOASTed body's header, not the body), then only
    // the rows before the one whose body reaches the cap, that one included.
    const rows = await this.run<RecordSql>(
      `WITH page AS (
         SELECT seq, coalesce(octet_length(body), 0) AS size FROM records
         WHERE subscriber = $1 AND seq > $2 AND seq <= $3 AND category = ANY($4::int[])
         ORDER BY seq LIMIT $5
       ), sized AS (
         SELECT seq, sum(size) OVER (ORDER BY seq) - size AS before, row_number() OVER (ORDER BY seq) AS n
         FROM page
       )
       SELECT ${RECORD_COLUMNS} FROM records
       WHERE subscriber = $1 AND seq IN (SELECT seq FROM sized WHERE n = 1 OR before < $6)
       ORDER BY seq`,
      [...args, q.maxBodyBytes],
    );
    return rows.map(storedRecord);
  }

  async changeLog(subscriber: string, after: number, limit: number): Promise<ChangeLogEntry[]> {
    const rows = await this.run<ChangePg>(
      `SELECT seq, category, record_id, origin, deleted, at FROM changes
       WHERE subscriber = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [subscriber, after, limit],
    );
    return rows.map(changeEntry);
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.run(
      `INSERT INTO audit (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
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
      ],
    );
  }

  /**
   * Audit ids are handed out when a line is inserted, not when it commits, so
   * with several writers a revoke may become visible after a later id did:
   * a cursor on ids would skip it. The cursor is therefore a transaction-id
   * horizon: the statement's snapshot xmin, below which every transaction has
   * ended, so no line written by one below it can still appear. Each call
   * reports the accepted revokes written by transactions in [cursor, horizon).
   * A long transaction anywhere in the cluster holds the horizon back and so
   * delays, never loses, a revoke.
   */
  async revokedSince(cursor: number | null): Promise<Revocations> {
    if (cursor === null) {
      const [r] = await this.run<{ horizon: number }>(
        'SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon',
      );
      return { cursor: r?.horizon ?? 0, terminalIds: [] };
    }
    const rows = await this.run<{ horizon: number; terminal_id: string | null }>(
      `WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
       SELECT h.xmin::text::bigint AS horizon, a.terminal_id FROM h
       LEFT JOIN audit a ON a.action = 'revoke' AND a.outcome = 'accepted'
         AND a.tx_id >= $1::text::xid8 AND a.tx_id < h.xmin
       ORDER BY a.tx_id, a.id`,
      [cursor],
    );
    return {
      cursor: Math.max(cursor, rows[0]?.horizon ?? 0),
      terminalIds: rows.flatMap((r) => (r.terminal_id === null ? [] : [r.terminal_id])),
    };
  }

  async getStaging(k: StagingKey): Promise<Staging | undefined> {
    const [r] = await this.run<StagingSql>(
      `SELECT ${STAGING_COLUMNS} FROM staging WHERE terminal_id = $1 AND category = $2 AND record_id = $3`,
      [k.terminalId, categoryCode(k.category), k.recordId],
    );
    return r && stagingRow(r);
  }

  /** The old row goes first, and with it (ON DELETE CASCADE) its parts. */
  async startStaging(row: Staging): Promise<void> {
    await this.dropStaging(row);
    await this.run(`INSERT INTO staging (${STAGING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)`, [
      row.terminalId,
      categoryCode(row.category),
      row.recordId,
      row.subscriber,
      row.size,
      row.hash,
      row.expiresAt,
    ]);
  }

  async appendStagedPart(k: StagingKey, offset: number, part: Uint8Array, expiresAt: number): Promise<void> {
    await this.run(
      `WITH part AS (
         INSERT INTO staged_parts (terminal_id, category, record_id, part_offset, bytes)
         VALUES ($1, $2, $3, $4, $5)
       )
       UPDATE staging SET got = $6, expires_at = $7 WHERE terminal_id = $1 AND category = $2 AND record_id = $3`,
      [k.terminalId, categoryCode(k.category), k.recordId, offset, part, offset + part.length, expiresAt],
    );
  }

  async stagedParts(k: StagingKey, from: number, limit: number): Promise<StagedPart[]> {
    const rows = await this.run<{ part_offset: number; bytes: Buffer }>(
      `SELECT part_offset, bytes FROM staged_parts
       WHERE terminal_id = $1 AND category = $2 AND record_id = $3 AND part_offset >= $4
       ORDER BY part_offset LIMIT $5`,
      [k.terminalId, categoryCode(k.category), k.recordId, from, limit],
    );
    return rows.map((r) => ({ offset: r.part_offset, bytes: bytes(r.bytes) ?? new Uint8Array(0) }));
  }

  async dropStaging(k: StagingKey | { terminalId: string }): Promise<void> {
    if ('recordId' in k) {
      await this.run('DELETE FROM staging WHERE terminal_id = $1 AND category = $2 AND record_id = $3', [
        k.terminalId,
        categoryCode(k.category),
        k.recordId,
      ]);
      return;
    }
    await this.run('DELETE FROM staging WHERE terminal_id = $1', [k.terminalId]);
  }

  async expireStaging(now: number): Promise<number> {
    const rows = await this.run<{ n: number }>(
      'WITH gone AS (DELETE FROM staging WHERE expires_at <= $1 RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [now],
    );
    return rows[0]?.n ?? 0;
  }

  async history(subscriber: string, limit: number): Promise<AuditEntry[]> {
    const rows = await this.run<AuditSql>(
      `SELECT ${AUDIT_COLUMNS} FROM audit WHERE subscriber = $1 OR terminal_owner = $1 ORDER BY id DESC LIMIT $2`,
      [subscriber, limit],
    );
    return rows.reverse().map(auditEntry);
  }
}

/** The ranged read of getBodyRange ($1 = 1-based offset, $2 = length); exported for its plan's test. */
export const BODY_RANGE_SQL = `SELECT seq, length(body) AS size, substring(body FROM $1::int FOR $2::int) AS part
  FROM records WHERE subscriber = $3 AND category = $4 AND record_id = $5 AND body IS NOT NULL`;
