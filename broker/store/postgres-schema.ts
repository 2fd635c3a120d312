import type { Pool } from 'pg';
import { pendingMigrations, SCHEMA_VERSION } from './migrations.js';

/**
 * Brings a PostgreSQL database to `target` (the latest by default) with the
 * shared migrations (migrations.ts). The table `simsync_migrations` holds one
 * row per step applied. Every pending step runs in ONE transaction (DDL is
 * transactional in PostgreSQL: a failed start leaves the schema as it was),
 * under an advisory lock, so that broker processes starting together migrate
 * once, one after the other, instead of racing on CREATE TABLE.
 */
export async function migratePostgres(pool: Pool, target: number = SCHEMA_VERSION): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('simsync schema migrations'))");
    await client.query(
      'CREATE TABLE IF NOT EXISTS simsync_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await client.query<{ version: number }>(
      'SELECT coalesce(max(version), 0)::int AS version FROM simsync_migrations',
    );
    let version = rows[0]?.version ?? 0;
    for (const step of pendingMigrations(version, target)) {
      await client.query(step.postgres);
      await client.query('INSERT INTO simsync_migrations (version, applied_at) VALUES ($1, $2)', [
        ++version,
        Date.now(),
      ]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** The schema version a PostgreSQL database is at (0 when it has none). */
export async function postgresSchemaVersion(pool: Pool): Promise<number> {
  const present = await pool.query<{ ok: boolean }>(
    "SELECT to_regclass('simsync_migrations') IS NOT NULL AS ok",
  );
  if (!present.rows[0]?.ok) return 0;
  const { rows } = await pool.query<{ version: number }>(
    'SELECT coalesce(max(version), 0)::int AS version FROM simsync_migrations',
  );
  return rows[0]?.version ?? 0;
}
