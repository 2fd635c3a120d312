/**
 * The sync store's schema, one list for both engines: migration n is the step
 * from version n-1 to n, written side by side for SQLite and PostgreSQL, so
 * the two schemas cannot drift apart. Append only: a shipped migration never
 * changes (an existing simsync.db or PostgreSQL database was made by it).
 *
 * SQLite records the version in `PRAGMA user_version` (sqlite-schema.ts),
 * PostgreSQL in the table `simsync_migrations` (postgres-schema.ts); both
 * apply the missing steps at start and refuse a database from a newer server.
 *
 * Where the dialects differ: PostgreSQL has BIGINT for ms times and sequence
 * numbers (SQLite's INTEGER is 64-bit already), BOOLEAN for flags, BYTEA for
 * bytes, an identity column for the audit log, and two things SQLite has no
 * need for, since it runs one writer at a time: bodies stored out of line and
 * uncompressed, so that substring() reads only the TOAST chunks of a range
 * ([0094] fetch), and the writing transaction's id on each audit line, which
 * revokedSince() reads by (postgres-store.ts says why).
 */
export interface Migration {
  /** What the step is for. */
  why: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    why: 'FIG. 7a/7b subscriber managing database, user data storage area, change log, audit log',
    sqlite: `
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
    postgres: `
  CREATE TABLE subscribers (
    subscriber TEXT PRIMARY KEY,
    iccid TEXT,
    login_password_hash TEXT,
    latest_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE terminals (
    terminal_id TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    password_hash TEXT,
    categories INTEGER NOT NULL,
    credential_hash TEXT,
    revoked BOOLEAN NOT NULL DEFAULT false,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    last_batch BIGINT,
    last_ack BYTEA
  );
  CREATE INDEX terminals_by_subscriber ON terminals(subscriber, terminal_id);
  CREATE TABLE codes (
    code_hash TEXT PRIMARY KEY,
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    terminal_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
  );
  CREATE TABLE records (
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    body BYTEA,
    seq BIGINT NOT NULL,
    origin TEXT NOT NULL,
    edited_at BIGINT NOT NULL,
    PRIMARY KEY (subscriber, category, record_id)
  );
  ALTER TABLE records ALTER COLUMN body SET STORAGE EXTERNAL;
  CREATE UNIQUE INDEX records_by_seq ON records(subscriber, seq);
  CREATE TABLE changes (
    subscriber TEXT NOT NULL,
    seq BIGINT NOT NULL,
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    deleted BOOLEAN NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (subscriber, seq)
  );
  CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at BIGINT NOT NULL,
    subscriber TEXT,
    terminal_id TEXT,
    terminal_owner TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    uploaded BIGINT NOT NULL,
    uploaded_bytes BIGINT NOT NULL,
    downloaded BIGINT NOT NULL,
    downloaded_bytes BIGINT NOT NULL
  );
  CREATE INDEX audit_by_subscriber ON audit(subscriber, id);
  CREATE INDEX audit_by_owner ON audit(terminal_owner, id);
  CREATE INDEX audit_revokes ON audit(tx_id, id) WHERE action = 'revoke' AND outcome = 'accepted';
  `,
  },
  {
    why: '[0033] folder and date filters, [0094] stub titles, per-terminal filters',
    sqlite: `
  ALTER TABLE records ADD COLUMN folder TEXT;
  ALTER TABLE records ADD COLUMN data_date INTEGER;
  ALTER TABLE records ADD COLUMN title TEXT;
  ALTER TABLE terminals ADD COLUMN filters TEXT;
  `,
    postgres: `
  ALTER TABLE records ADD COLUMN folder TEXT;
  ALTER TABLE records ADD COLUMN data_date BIGINT;
  ALTER TABLE records ADD COLUMN title TEXT;
  ALTER TABLE terminals ADD COLUMN filters TEXT;
  `,
  },
  {
    // Parts in rows of their own: appending to one growing value would rewrite
    // it whole at every part (quadratic in the body's size).
    why: '[0094] upload staging: bodies uploaded in parts, kept until an upload names them, expiring',
    sqlite: `
  CREATE TABLE staging (
    terminal_id TEXT NOT NULL,
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    size INTEGER NOT NULL,
    hash BLOB NOT NULL,
    got INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, category, record_id)
  ) WITHOUT ROWID;
  CREATE INDEX staging_by_expiry ON staging(expires_at);
  CREATE TABLE staged_parts (
    terminal_id TEXT NOT NULL,
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    part_offset INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    FOREIGN KEY (terminal_id, category, record_id) REFERENCES staging ON DELETE CASCADE
  );
  CREATE UNIQUE INDEX staged_parts_in_order ON staged_parts(terminal_id, category, record_id, part_offset);
  `,
    postgres: `
  CREATE TABLE staging (
    terminal_id TEXT NOT NULL,
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    subscriber TEXT NOT NULL REFERENCES subscribers(subscriber),
    size BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    got BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (terminal_id, category, record_id)
  );
  CREATE INDEX staging_by_expiry ON staging(expires_at);
  CREATE TABLE staged_parts (
    terminal_id TEXT NOT NULL,
    category INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    part_offset BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (terminal_id, category, record_id, part_offset),
    FOREIGN KEY (terminal_id, category, record_id) REFERENCES staging ON DELETE CASCADE
  );
  ALTER TABLE staged_parts ALTER COLUMN bytes SET STORAGE EXTERNAL;
  `,
  },
  {
    // K and OPc only sealed (broker/aka-vault.ts); sqn is the last SQN issued (TS 33.102 Annex C.1).
    why: 'TS 33.102 AKA: a subscriber card key, sealed under the server key named by key_id, and its SQN',
    sqlite: `
  CREATE TABLE aka_keys (
    subscriber TEXT PRIMARY KEY REFERENCES subscribers(subscriber),
    key_id TEXT NOT NULL,
    sealed BLOB NOT NULL,
    sqn INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
    postgres: `
  CREATE TABLE aka_keys (
    subscriber TEXT PRIMARY KEY REFERENCES subscribers(subscriber),
    key_id TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    sqn BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );
  `,
  },
];

/** The version a database has once every migration ran. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The steps that take a database from `current` to `target`; refuses one written by a newer server. */
export function pendingMigrations(current: number, target: number = SCHEMA_VERSION): readonly Migration[] {
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema ${current} is newer than this server (${SCHEMA_VERSION})`);
  }
  return MIGRATIONS.slice(current, Math.min(target, SCHEMA_VERSION));
}
