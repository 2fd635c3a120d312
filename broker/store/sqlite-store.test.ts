import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './sqlite-driver.js';
import { SCHEMA_VERSION } from './sqlite-schema.js';
import { openSqliteStore, type SqliteSyncStore } from './sqlite-store.js';
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

  describe('group commit: transactions asked for while one runs share its COMMIT', () => {
    const X = '001010000000103';
    const put = (store: SqliteSyncStore, id: string) =>
      store.transaction((tx) =>
        tx.putRecord(
          X,
          { category: 'contacts', recordId: id, body: new Uint8Array([1]), origin: 't', editedAt: 1 },
          1,
        ),
      );
    const subscriber = (store: SqliteSyncStore) =>
      store.transaction((tx) =>
        tx.putSubscriber({ subscriber: X, iccid: null, loginPasswordHash: null, createdAt: 1 }),
      );

    it('twenty at once are one COMMIT, each resolves with its own result, and all of it is on disk', async () => {
      const path = join(dir, 'group', 'sync.db');
      const store = openSqliteStore(path);
      await subscriber(store);
      const before = store.commits;
      const seqs = await Promise.all(Array.from({ length: 20 }, (_, i) => put(store, `r${i}`)));
      expect(store.commits - before).toBe(1);
      expect(new Set(seqs).size).toBe(20);
      await store.close();
      const again = openSqliteStore(path);
      expect(await again.latestSeq(X)).toBe(20);
      await again.close();
    });

    it('one that fails is rolled back alone: the others in its group commit, and its caller alone gets the error', async () => {
      const store = openSqliteStore(join(dir, 'group-fail', 'sync.db'));
      await subscriber(store);
      const before = store.commits;
      const failing = store.transaction(async (tx) => {
        await tx.putRecord(
          X,
          { category: 'contacts', recordId: 'bad', body: new Uint8Array([2]), origin: 't', editedAt: 1 },
          1,
        );
        throw new Error('refused half-way');
      });
      const results = await Promise.allSettled([put(store, 'a'), failing, put(store, 'b')]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'refused half-way' });
      expect(store.commits - before).toBe(1);
      expect(await store.getRecord(X, 'contacts', 'bad')).toBeUndefined();
      expect((await store.getRecord(X, 'contacts', 'b'))?.body).toEqual(new Uint8Array([1]));
      expect(await store.latestSeq(X)).toBe(2);
      await store.close();
    });

    it('a lone transaction on an idle store commits alone, and a group never outgrows its bound', async () => {
      const store = openSqliteStore(':memory:');
      await subscriber(store);
      const before = store.commits;
      await put(store, 'alone');
      expect(store.commits - before).toBe(1);
      await Promise.all(Array.from({ length: 130 }, (_, i) => put(store, `m${i}`)));
      expect(store.commits - before).toBe(1 + 3);
      await store.close();
    });

    it('issue 20: a group of durable: false transactions commits without an fsync; one durable member makes the group durable', async () => {
      const path = join(dir, 'relaxed', 'sync.db');
      const store = openSqliteStore(path);
      await subscriber(store);
      const relaxed = (id: string) =>
        store.transaction(
          (tx) =>
            tx.putRecord(
              X,
              { category: 'contacts', recordId: id, body: new Uint8Array([3]), origin: 't', editedAt: 1 },
              1,
            ),
          { durable: false },
        );
      const synchronous = () =>
        (store as unknown as { db: { pragma(p: string, o: object): unknown } }).db.pragma('synchronous', {
          simple: true,
        });
      const before = { commits: store.commits, relaxed: store.relaxedCommits };
      await relaxed('r1');
      expect([store.commits - before.commits, store.relaxedCommits - before.relaxed]).toEqual([1, 1]);
      // FULL (2) again after it, for every other transaction.
      expect(synchronous()).toBe(2);
      await Promise.all([relaxed('r2'), put(store, 'd1'), relaxed('r3')]);
      expect([store.commits - before.commits, store.relaxedCommits - before.relaxed]).toEqual([2, 1]);
      expect(synchronous()).toBe(2);
      // Visible at once, and all of it on disk after a clean close.
      expect((await store.getRecord(X, 'contacts', 'r3'))?.body).toEqual(new Uint8Array([3]));
      await store.close();
      const again = openSqliteStore(path);
      expect(await again.latestSeq(X)).toBe(4);
      await again.close();
    });
  });
});
