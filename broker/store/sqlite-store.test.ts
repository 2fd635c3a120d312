import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './sqlite-driver.js';
import { SCHEMA_VERSION } from './sqlite-schema.js';
import { openSqliteStore } from './sqlite-store.js';
import { describeSyncStoreContract } from './store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'simsync-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeSyncStoreContract('sqlite :memory:', () => openSqliteStore(':memory:'));
describeSyncStoreContract('sqlite file', () => openSqliteStore(join(dir, `contract-${n++}`, 'sync.db')));

describe('SQLite store file', () => {
  it('keeps committed data across reopening, in WAL mode at the current schema version', async () => {
    const path = join(dir, 'reopen', 'sync.db');
    const first = openSqliteStore(path);
    await first.transaction(async (tx) => {
      await tx.putSubscriber({
        subscriber: '001010000000102',
        iccid: null,
        loginPasswordHash: null,
        createdAt: 1,
      });
      await tx.putRecord(
        '001010000000102',
        { category: 'contacts', recordId: 'a', body: new Uint8Array([7]), origin: 't', editedAt: 1 },
        1,
      );
    });
    await first.close();
    await first.close();

    const second = openSqliteStore(path);
    expect(await second.latestSeq('001010000000102')).toBe(1);
    expect((await second.getRecord('001010000000102', 'contacts', 'a'))?.body).toEqual(new Uint8Array([7]));
    await second.close();

    const raw = openDatabase(path);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('opens simsync.db inside a data directory', async () => {
    const store = openSqliteStore(dir);
    await store.close();
    expect(existsSync(join(dir, 'simsync.db'))).toBe(true);
  });

  it('refuses a database written by a newer server', async () => {
    const path = join(dir, 'newer', 'sync.db');
    await openSqliteStore(path).close();
    const raw = openDatabase(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openSqliteStore(path)).toThrow(/newer/);
  });
});
