import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { openPostgresStore, openSqliteStore, type SyncStore } from '../broker/index.js';

/**
 * The server's store: PostgreSQL when a URL is given (`--postgres`, or
 * SIMSYNC_POSTGRES for `simsync admin`), shared by every broker process of a
 * cluster; otherwise the SQLite file in the data directory (0700).
 */
export async function openServerStore(dataDir: string, postgres: string | undefined): Promise<SyncStore> {
  if (postgres) return openPostgresStore(postgres);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore(path.join(dataDir, 'simsync.db'));
}
