import Sqlite from 'better-sqlite3';

/** The better-sqlite3 types (@types/better-sqlite3), as the SQLite store and its tests use them. */
export type { Database, Statement } from 'better-sqlite3';

/**
 * Opens a SQLite database the way the store relies on: a writer held up by
 * another process's lock waits up to 5 s (SQLITE_BUSY after that) instead of
 * failing at once. The native addon loads here, at the first open.
 */
export function openDatabase(filename: string): Sqlite.Database {
  return new Sqlite(filename, { timeout: 5000 });
}
