import { pendingMigrations, SCHEMA_VERSION } from './migrations.js';
import type { Database } from './sqlite-driver.js';

export { SCHEMA_VERSION };

/**
 * Brings a SQLite database to `target` (the latest by default) with the
 * shared migrations (migrations.ts), one transaction per step; `PRAGMA
 * user_version` records how many ran.
 */
export function migrate(db: Database, target: number = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  let v = current;
  for (const step of pendingMigrations(current, target)) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(step.sqlite);
      db.pragma(`user_version = ${++v}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
}
