import type { Database } from './sqlite-driver.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many
 * ran. Append only: a shipped migration never changes.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE subscribers (
    subscriber TEXT PRIMARY KEY,
    iccid TEXT,
    login_password_hash TEXT,
    latest_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE terminals (
    terminal_id TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    password_hash TEXT,
    categories INTEGER NOT NULL,
    credential_hash TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    last_batch INTEGER,
    last_ack BLOB
  );
  CREATE INDEX terminals_by_subscriber ON terminals(subscriber, terminal_id);
  CREATE TABLE codes (
    code_hash TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    terminal_id TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  );
  CREATE TABLE records (
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    body BLOB,
    seq INTEGER NOT NULL,
    origin TEXT NOT NULL,
    edited_at INTEGER NOT NULL,
    PRIMARY KEY (subscriber, category, record_id)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX records_by_seq ON records(subscriber, seq);
  CREATE TABLE changes (
    subscriber TEXT NOT NULL,
    seq INTEGER NOT NULL,
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (subscriber, seq)
  ) WITHOUT ROWID;
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    subscriber TEXT,
    terminal_id TEXT,
    terminal_owner TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    uploaded INTEGER NOT NULL,
    uploaded_bytes INTEGER NOT NULL,
    downloaded INTEGER NOT NULL,
    downloaded_bytes INTEGER NOT NULL
  );
  CREATE INDEX audit_by_subscriber ON audit(subscriber, id);
  CREATE INDEX audit_by_owner ON audit(terminal_owner, id);
  `,
  // [0033] folder and date filters, [0094] stub titles, per-terminal filters.
  `
  ALTER TABLE records ADD COLUMN folder TEXT;
  ALTER TABLE records ADD COLUMN data_date INTEGER;
  ALTER TABLE records ADD COLUMN title TEXT;
  ALTER TABLE terminals ADD COLUMN filters TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema ${current} is newer than this server (${MIGRATIONS.length})`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
}
