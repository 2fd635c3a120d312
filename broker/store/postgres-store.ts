import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import type { Category } from '../../core/protocol/index.js';
import { type Logger, silentLogger } from '../logger.js';
import { PostgresStoreError, storeError } from './postgres-errors.js';
import { PostgresQueries, type Run } from './postgres-queries.js';
import { storeTypes } from './postgres-rows.js';
import { migratePostgres } from './postgres-schema.js';
import type {
  AkaRow,
  AuditEntry,
  CodeRow,
  RecordQuery,
  RecordWrite,
  Staging,
  StagingKey,
  SubscriberRow,
  SyncStore,
  SyncTx,
  TerminalRow,
  TransactionOptions,
} from './sync-store.js';

export { PostgresStoreError, type PostgresStoreErrorKind } from './postgres-errors.js';

export interface PostgresStoreOptions {
  /** Connections this process holds for requests and transactions (default 10). */
  poolSize?: number;
  logger?: Logger;
  /** How long to wait for a connection before failing as `unavailable` (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * How long a connection may sit idle inside a transaction before the server
   * ends it, rolling back and releasing its locks (default 30 s): a broker
   * process that hangs mid-transaction must not hold a subscriber's lock for good.
   */
  idleInTransactionMs?: number;
}

/** Attempts of a transaction that PostgreSQL aborted as a deadlock victim. */
const MAX_ATTEMPTS = 3;
/** Connections for bookkeeping writes (touchTerminal, appendAudit). */
const BOOKKEEPING_POOL = 2;

/** Statement names by text: each statement is parsed and planned once per connection. */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `simsync_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

function runOn(db: Pool | PoolClient, isClosed: () => boolean): Run {
  return async <R extends QueryResultRow>(text: string, values: unknown[] = []) => {
    if (isClosed()) throw new Error('store is closed');
    try {
      return (await db.query<R>({ name: statementName(text), text, values })).rows;
    } catch (e) {
      throw storeError(e);
    }
  };
}

/**
 * A transaction's reads and writes. Every read of a subscriber's data first
 * takes that subscriber's row lock (see PostgresSyncStore), once per
 * transaction; a row found before its owner was locked is read again under
 * the lock, so the transaction sees what the previous lock holder committed.
 */
class PostgresTx implements SyncTx {
  private readonly locked = new Set<string>();
  constructor(private readonly q: PostgresQueries) {}

  /** Locks the subscriber's row; its latest seq, or undefined for an unknown subscriber. */
  private async lock(subscriber: string): Promise<number | undefined> {
    const latest = await this.q.lockSubscriber(subscriber);
    if (latest !== undefined) this.locked.add(subscriber);
    return latest;
  }

  private async own(subscriber: string): Promise<void> {
    if (!this.locked.has(subscriber)) await this.lock(subscriber);
  }

  private async underOwnerLock<R>(read: () => Promise<R | undefined>, owner: (row: R) => string) {
    let row = await read();
    while (row !== undefined && !this.locked.has(owner(row))) {
      if ((await this.lock(owner(row))) === undefined) return row;
      row = await read();
    }
    return row;
  }

  getSubscriber = async (s: string) => {
    const row = await this.q.getSubscriber(s, true);
    if (row) this.locked.add(s);
    return row;
  };
  putSubscriber = async (row: SubscriberRow) => {
    await this.q.putSubscriber(row);
    this.locked.add(row.subscriber);
  };
  getTerminal = (t: string) =>
    this.underOwnerLock(
      () => this.q.getTerminal(t),
      (r) => r.subscriber,
    );
  putTerminal = async (row: TerminalRow) => {
    await this.own(row.subscriber);
    await this.q.putTerminal(row);
  };
  getCode = (h: string) =>
    this.underOwnerLock(
      () => this.q.getCode(h),
      (r) => r.subscriber,
    );
  putCode = async (row: CodeRow) => {
    await this.own(row.subscriber);
    await this.q.putCode(row);
  };
  getAka = async (s: string) => {
    await this.own(s);
    return this.q.getAka(s);
  };
  putAka = async (row: AkaRow) => {
    await this.own(row.subscriber);
    await this.q.putAka(row);
  };
  deleteAka = async (s: string) => {
    await this.own(s);
    await this.q.deleteAka(s);
  };
  getRecord = async (s: string, c: Category, id: string) => {
    await this.own(s);
    return this.q.getRecord(s, c, id);
  };
  putRecord = async (s: string, r: RecordWrite, at: number) => {
    const seq = await this.q.putRecord(s, r, at);
    if (seq === undefined) throw new Error(`unknown subscriber ${s}`);
    this.locked.add(s);
    return seq;
  };
  latestSeq = async (s: string) => (await this.lock(s)) ?? 0;
  appendAudit = (e: AuditEntry) => this.q.appendAudit(e);
  // Staging rows are the terminal's: its getTerminal in this transaction took the owner's lock.
  getStaging = (k: StagingKey) => this.q.getStaging(k);
  startStaging = async (row: Staging) => {
    await this.own(row.subscriber);
    await this.q.startStaging(row);
  };
  appendStagedPart = (k: StagingKey, offset: number, part: Uint8Array, expiresAt: number) =>
    this.q.appendStagedPart(k, offset, part, expiresAt);
  stagedParts = (k: StagingKey, from: number, limit: number) => this.q.stagedParts(k, from, limit);
  dropStaging = (k: StagingKey | { terminalId: string }) => this.q.dropStaging(k);
}

/**
 * SyncStore on PostgreSQL (npm pg), for several broker processes sharing one
 * database (DESIGN.md "Scale").
 *
 * Concurrency: READ COMMITTED plus one row lock per subscriber. A
 * transaction's first touch of a subscriber's data locks that subscriber's
 * row (SELECT … FOR NO KEY UPDATE; putRecord's UPDATE of latest_seq takes the
 * same lock), and the lock is held until COMMIT or ROLLBACK. So transactions
 * on one subscriber run one after the other, whichever process they come
 * from, as on SQLite; transactions on different subscribers run in parallel.
 * - The change log's seq is latest_seq + 1 under that lock: gap-free (a
 *   rolled-back transaction gives its numbers back, unlike a SEQUENCE) and in
 *   commit order (n+1 cannot be handed out before n's transaction ended), so
 *   a reader that sees latest_seq = n sees every change up to n.
 * - A batch's idempotence check reads the terminal's last batch under the
 *   lock, so a retry landing on another process at the same instant waits and
 *   is answered from the stored ack (broker/sync/upload.ts).
 * - A conflict is resolved against the record as the previous transaction
 *   left it: the same winner as single-process.
 * Why not SERIALIZABLE: every upload of a subscriber conflicts with the
 * others (latest_seq), so it would abort and retry what the lock simply
 * queues. Deadlocks need one transaction to lock two subscribers in the
 * opposite order of another (rare: a terminal moving between subscribers);
 * PostgreSQL then aborts one, and it is run again, up to MAX_ATTEMPTS, so a
 * transaction's `fn` may run more than once and must do nothing outside `tx`
 * but read and log.
 *
 * Each transaction holds one pooled connection from BEGIN to COMMIT. One that
 * loses its connection is rolled back by the server and fails as
 * `unavailable`; the connection is dropped, not reused.
 *
 * Durability: commits wait for the WAL flush (synchronous_commit as the server
 * has it). The bookkeeping writes made outside transactions (touchTerminal,
 * appendAudit) use connections with synchronous_commit off: atomic and
 * visible at once, durable within the WAL writer's delay or with the next
 * synchronous commit, which flushes the WAL up to itself.
 *
 * Needs PostgreSQL 13 or later (xid8, pg_current_snapshot; revokedSince).
 */
export class PostgresSyncStore implements SyncStore {
  private readonly q: PostgresQueries;
  private readonly relaxed: PostgresQueries;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly bookkeeping: Pool,
    private readonly logger: Logger,
  ) {
    const isClosed = () => this.closed;
    this.q = new PostgresQueries(runOn(pool, isClosed));
    this.relaxed = new PostgresQueries(runOn(bookkeeping, isClosed));
  }

  /** Connects, migrates the schema to the latest version (migrations.ts), and gives the store. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresSyncStore> {
    const logger = options.logger ?? silentLogger;
    const config = (max: number, relaxed = false): PoolConfig => ({
      connectionString: url,
      max,
      types: storeTypes(),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idle_in_transaction_session_timeout: options.idleInTransactionMs ?? 30_000,
      keepAlive: true,
      application_name: 'simsync',
      // A startup parameter: the connection is relaxed before its first query.
      // (Options in the URL replace these, and then bookkeeping waits for the flush.)
      ...(relaxed ? { options: '-c synchronous_commit=off' } : {}),
    });
    const pool = new Pool(config(options.poolSize ?? 10));
    const bookkeeping = new Pool(config(BOOKKEEPING_POOL, true));
    // An idle connection that dies (server restart, terminated backend) is
    // reported here and replaced on next use; without a listener it would crash the process.
    for (const p of [pool, bookkeeping]) {
      p.on('error', (err) => logger.warn({ err }, 'PostgreSQL connection lost while idle'));
    }
    try {
      await migratePostgres(pool);
    } catch (e) {
      await Promise.all([pool.end(), bookkeeping.end()]);
      throw storeError(e);
    }
    return new PostgresSyncStore(pool, bookkeeping, logger);
  }

  async transaction<T>(fn: (tx: SyncTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn, options.durable ?? true);
      } catch (e) {
        if (!(e instanceof PostgresStoreError) || e.kind !== 'conflict' || attempt >= MAX_ATTEMPTS) throw e;
        this.logger.warn(
          { err: e, attempt },
          'PostgreSQL transaction aborted by a deadlock; running it again',
        );
      }
    }
  }

  private async once<T>(fn: (tx: SyncTx) => Promise<T>, durable: boolean): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storeError(e);
    }
    // A checked-out connection that dies reports here; the failing query says the rest.
    const onError = (err: Error) => this.logger.warn({ err }, 'PostgreSQL connection lost in a transaction');
    client.on('error', onError);
    let broken: Error | undefined;
    const run = runOn(client, () => false);
    try {
      await run('BEGIN ISOLATION LEVEL READ COMMITTED');
      // This transaction only: its COMMIT does not wait for the WAL flush (the next synchronous one does).
      if (!durable) await run('SET LOCAL synchronous_commit = off');
      const result = await fn(new PostgresTx(new PostgresQueries(run)));
      await run('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackFailed) {
        broken = rollbackFailed as Error;
      }
      throw e;
    } finally {
      client.off('error', onError);
      // A connection that could not even roll back is closed, not pooled.
      client.release(broken);
    }
  }

  getSubscriber = (s: string) => this.q.getSubscriber(s);
  listSubscribers = () => this.q.listSubscribers();
  getTerminal = (t: string) => this.q.getTerminal(t);
  listTerminals = (s?: string) => this.q.listTerminals(s);
  getCode = (h: string) => this.q.getCode(h);
  getAka = (s: string) => this.q.getAka(s);
  listAka = () => this.q.listAka();
  touchTerminal = (t: string, at: number) => this.relaxed.touchTerminal(t, at);
  latestSeq = (s: string) => this.q.latestSeq(s);
  getRecord = (s: string, c: Category, id: string) => this.q.getRecord(s, c, id);
  getBodyRange = (s: string, c: Category, id: string, offset: number, length: number) =>
    this.q.getBodyRange(s, c, id, offset, length);
  recordsAfter = (query: RecordQuery) => this.q.recordsAfter(query);
  changeLog = (s: string, after = 0, limit = 1000) => this.q.changeLog(s, after, limit);
  expireStaging = (now: number) => this.q.expireStaging(now);
  appendAudit = (e: AuditEntry) => this.relaxed.appendAudit(e);
  history = (s: string, limit = 1000) => this.q.history(s, limit);
  revokedSince = (cursor: number | null) => this.q.revokedSince(cursor);

  /** Closes the pools once the running operations have finished; closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.end(), this.bookkeeping.end()]);
  }
}

/**
 * Opens a PostgreSQL sync store at a connection URL
 * (`postgres://user:password@host:5432/database`), migrating its schema to the
 * latest version. Fails as PostgresStoreError `unavailable` when the server
 * cannot be reached.
 */
export function openPostgresStore(url: string, options?: PostgresStoreOptions): Promise<PostgresSyncStore> {
  return PostgresSyncStore.open(url, options);
}
