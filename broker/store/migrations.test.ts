import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { migratePostgres, postgresSchemaVersion } from './postgres-schema.js';
import { openPostgresStore } from './postgres-store.js';
import { openDatabase } from './sqlite-driver.js';
import { migrate } from './sqlite-schema.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SyncStore } from './sync-store.js';

const X = '001010000000102';
const dir = mkdtempSync(join(tmpdir(), 'simsync-migrations-'));
let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startTestPostgres();
}, 600_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;

/** Rows as version 1 wrote them (every later version keeps these columns), one per table. */
const V1_ROWS: [string, unknown[]][] = [
  [
    'INSERT INTO subscribers (subscriber, iccid, login_password_hash, latest_seq, created_at) VALUES (?, ?, ?, ?, ?)',
    [X, '8988211000000430010', 'scrypt$h', 1, 5],
  ],
  [
    `INSERT INTO terminals (terminal_id, subscriber, password_hash, categories, credential_hash, revoked,
       created_at, last_seen_at, last_batch, last_ack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ['pc-1', X, null, 1, 'cd'.repeat(32), false, 6, 7, 3, Buffer.from([1, 2])],
  ],
  [
    `INSERT INTO codes (code_hash, subscriber, terminal_id, created_at, expires_at, used_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
    ['c1', X, 'pc-1', 1, 50, null],
  ],
  [
    `INSERT INTO records (subscriber, category, record_id, body, seq, origin, edited_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [X, 0, 'a', Buffer.from([7]), 1, 'pc-1', 8],
  ],
  [
    'INSERT INTO changes (subscriber, seq, category, record_id, origin, deleted, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [X, 1, 0, 'a', 'pc-1', false, 9],
  ],
  [
    `INSERT INTO audit (at, subscriber, terminal_id, terminal_owner, action, outcome, reason, uploaded,
       uploaded_bytes, downloaded, downloaded_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [10, X, 'pc-1', null, 'upload', 'accepted', null, 1, 1, 0, 0],
  ],
];

/** SQLite has no BOOLEAN: its flags are 0/1. */
const sqliteValues = (values: unknown[]) => values.map((v) => (typeof v === 'boolean' ? Number(v) : v));
/** PostgreSQL numbers its parameters. */
const postgresSql = (sql: string) => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

/** What a store must read from a database that held V1_ROWS, and that it can write at the latest version. */
async function expectV1Data(store: SyncStore): Promise<void> {
  expect(await store.getSubscriber(X)).toEqual({
    subscriber: X,
    iccid: '8988211000000430010',
    loginPasswordHash: 'scrypt$h',
    createdAt: 5,
  });
  expect(await store.getTerminal('pc-1')).toEqual({
    terminalId: 'pc-1',
    subscriber: X,
    passwordHash: null,
    categories: ['contacts'],
    credentialHash: 'cd'.repeat(32),
    revoked: false,
    createdAt: 6,
    lastSeenAt: 7,
    lastBatch: 3,
    lastAck: new Uint8Array([1, 2]),
  });
  expect(await store.getCode('c1')).toMatchObject({ subscriber: X, terminalId: 'pc-1', expiresAt: 50 });
  expect(await store.getRecord(X, 'contacts', 'a')).toEqual({
    category: 'contacts',
    recordId: 'a',
    body: new Uint8Array([7]),
    seq: 1,
    origin: 'pc-1',
    editedAt: 8,
  });
  expect(await store.changeLog(X)).toEqual([
    { seq: 1, category: 'contacts', recordId: 'a', origin: 'pc-1', deleted: false, at: 9 },
  ]);
  expect((await store.history(X)).map((e) => [e.action, e.uploaded])).toEqual([['upload', 1]]);
  const meta = { folder: 'inbox', date: 1_700_000_000_000, title: 'hi' };
  const seq = await store.transaction((tx) =>
    tx.putRecord(X, { category: 'mail', recordId: 'm', body: null, origin: 'pc-1', editedAt: 11, meta }, 12),
  );
  expect(seq).toBe(2);
  expect((await store.getRecord(X, 'mail', 'm'))?.meta).toEqual(meta);
}

const earlierVersions = Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 1);

describe('schema migrations: SQLite', () => {
  it('migrates an empty database to the latest version', async () => {
    const path = join(dir, `empty-${n++}.db`);
    await openSqliteStore(path).close();
    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it.each(earlierVersions)('migrates a database at version %i to the latest, keeping its data', async (v) => {
    const path = join(dir, `v${v}-${n++}.db`);
    const db = openDatabase(path);
    migrate(db, v);
    expect(db.pragma('user_version', { simple: true })).toBe(v);
    for (const [sql, values] of V1_ROWS) db.prepare(sql).run(...sqliteValues(values));
    db.close();
    const store = openSqliteStore(path);
    await expectV1Data(store);
    await store.close();
  });
});

describe('schema migrations: PostgreSQL', () => {
  it('migrates an empty database to the latest version, one row per step', async () => {
    const url = await cluster.createDatabase();
    const store = await openPostgresStore(url);
    await store.close();
    const pool = new pg.Pool({ connectionString: url });
    expect(await postgresSchemaVersion(pool)).toBe(SCHEMA_VERSION);
    const { rows } = await pool.query('SELECT version FROM simsync_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    await pool.end();
  });

  it.each(earlierVersions)('migrates a database at version %i to the latest, keeping its data', async (v) => {
    const url = await cluster.createDatabase();
    const pool = new pg.Pool({ connectionString: url });
    await migratePostgres(pool, v);
    expect(await postgresSchemaVersion(pool)).toBe(v);
    for (const [sql, values] of V1_ROWS) await pool.query(postgresSql(sql), values);
    await pool.end();
    const store = await openPostgresStore(url);
    await expectV1Data(store);
    await store.close();
  });

  it('migrates once when several broker processes start together', async () => {
    const url = await cluster.createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url)));
    await Promise.all(stores.map((s) => s.close()));
    const pool = new pg.Pool({ connectionString: url });
    const { rows } = await pool.query('SELECT count(*)::int AS steps FROM simsync_migrations');
    expect(rows[0].steps).toBe(SCHEMA_VERSION);
    await pool.end();
  });

  it('refuses a database written by a newer server', async () => {
    const url = await cluster.createDatabase();
    await (await openPostgresStore(url)).close();
    const pool = new pg.Pool({ connectionString: url });
    await pool.query('INSERT INTO simsync_migrations (version, applied_at) VALUES ($1, 0)', [
      SCHEMA_VERSION + 1,
    ]);
    await pool.end();
    await expect(openPostgresStore(url)).rejects.toThrow(/newer/);
  });
});

describe('schema migrations: both engines', () => {
  /** Table → its columns in order, from each engine's catalogue. */
  async function sqliteColumns(v: number): Promise<Record<string, string[]>> {
    const db = openDatabase(':memory:');
    migrate(db, v);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    const out: Record<string, string[]> = {};
    for (const { name } of tables) {
      out[name] = (
        db.prepare(`SELECT name FROM pragma_table_info('${name}')`).all() as { name: string }[]
      ).map((c) => c.name);
    }
    db.close();
    return out;
  }

  async function postgresColumns(v: number): Promise<Record<string, string[]>> {
    const pool = new pg.Pool({ connectionString: await cluster.createDatabase() });
    await migratePostgres(pool, v);
    const { rows } = await pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name <> 'simsync_migrations'
       ORDER BY table_name, ordinal_position`,
    );
    await pool.end();
    const out: Record<string, string[]> = {};
    for (const r of rows) {
      // The writing transaction's id exists on PostgreSQL only (revokedSince; migrations.ts).
      if (r.table_name === 'audit' && r.column_name === 'tx_id') continue;
      out[r.table_name] = [...(out[r.table_name] ?? []), r.column_name];
    }
    return out;
  }

  it.each(MIGRATIONS.map((_, i) => i + 1))('have the same tables and columns at version %i', async (v) => {
    expect(await postgresColumns(v)).toEqual(await sqliteColumns(v));
  });
});
