import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { applyUpload, type UploadLimits, type UploadOutcome } from '../sync/upload.js';
import { PostgresStoreError } from './postgres-errors.js';
import { BODY_RANGE_SQL } from './postgres-queries.js';
import { openPostgresStore, type PostgresSyncStore } from './postgres-store.js';
import { describeSyncStoreContract } from './store.contract.js';
import type { AuditEntry, SyncStore, TerminalRow } from './sync-store.js';

let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startTestPostgres();
}, 600_000);
afterAll(() => cluster?.stop());

describeSyncStoreContract('postgres', async () => openPostgresStore(await cluster.createDatabase()));

const X = '001010000000102';
const LIMITS: UploadLimits = {
  maxRecordBytes: 1 << 20,
  maxWinnerBytes: 1 << 20,
  maxReasonChars: 10_000,
  maxAckBytes: 1 << 20,
};

function terminal(terminalId: string): TerminalRow {
  return {
    terminalId,
    subscriber: X,
    passwordHash: null,
    categories: ['contacts', 'mail'],
    credentialHash: 'ab'.repeat(32),
    revoked: false,
    createdAt: 1,
    lastSeenAt: null,
    lastBatch: null,
    lastAck: null,
  };
}

async function subscriberWith(store: SyncStore, ...terminals: string[]): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.putSubscriber({ subscriber: X, iccid: null, loginPasswordHash: null, createdAt: 1 });
    for (const t of terminals) await tx.putTerminal(terminal(t));
  });
}

/** Two stores on one database: two pools, as two broker processes have. */
async function twoProcesses(): Promise<{ url: string; a: PostgresSyncStore; b: PostgresSyncStore }> {
  const url = await cluster.createDatabase();
  const [a, b] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
  return { url, a, b };
}

/** An upload of `n` contacts; record ids from `ids`, edited at `at`, from base 0. */
function upload(batch: number, ids: string[], at: number) {
  return {
    type: 'upload' as const,
    req: batch,
    subscriber: X,
    batch,
    changes: ids.map(
      (id) => [0, id, 0, at, new Uint8Array([batch])] as [number, string, number, number, Uint8Array],
    ),
  };
}

function applied(o: UploadOutcome) {
  if (o.kind !== 'applied') throw new Error(`expected applied, got ${o.kind}`);
  return o;
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('PostgreSQL store across processes', () => {
  it('keeps the change log gap-free and in commit order under concurrent uploads from two processes', async () => {
    const { a, b } = await twoProcesses();
    await subscriberWith(a, 'pc-a', 'pc-b');
    const batches = 12;
    // Both terminals write the same records: every batch after the first conflicts.
    const run = (store: SyncStore, t: string, stamp: number) =>
      (async () => {
        const outcomes = [];
        for (let n = 1; n <= batches; n++) {
          outcomes.push(
            applied(
              await applyUpload(store, t, upload(n, ['r1', 'r2', `${t}-${n}`], stamp + n), 1e12, LIMITS),
            ),
          );
        }
        return outcomes;
      })();
    // A reader on a third connection: whatever latest it sees, every change up to it is there.
    let stop = false;
    const holes: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const latest = await a.latestSeq(X);
        const seqs = (await b.changeLog(X, 0, 10_000)).map((c) => c.seq).filter((s) => s <= latest);
        if (seqs.length !== latest || seqs.some((s, i) => s !== i + 1))
          holes.push(`latest ${latest}: ${seqs}`);
      }
    })();
    const [fromA, fromB] = await Promise.all([run(a, 'pc-a', 1000), run(b, 'pc-b', 2000)]).finally(() => {
      stop = true;
    });
    await reader;
    expect(holes).toEqual([]);

    const log = await a.changeLog(X, 0, 10_000);
    expect(log.map((c) => c.seq)).toEqual(log.map((_, i) => i + 1));
    expect(await b.latestSeq(X)).toBe(log.length);
    // Each batch got a contiguous run of seqs (previous, latest], the runs do not overlap and cover the log.
    const runs = [...fromA, ...fromB]
      .map((o) => [o.ack.previous, o.ack.latest] as const)
      .sort((p, q) => p[0] - q[0]);
    let at = 0;
    for (const [previous, latest] of runs) {
      expect(previous).toBe(at);
      at = latest;
    }
    expect(at).toBe(log.length);
    for (const o of [...fromA, ...fromB]) {
      expect(o.latest - o.ack.previous).toBe(o.applied);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('gives the conflict to the later edit whichever process applies it first, as single-process', async () => {
    const { a, b } = await twoProcesses();
    await subscriberWith(a, 'pc-a', 'pc-b');
    const seed = applied(await applyUpload(a, 'pc-a', upload(1, ['r'], 10), 1e12, LIMITS));
    const base = seed.ack.seqs[0] ?? 0;
    // Both edit r from the same base at once, on different processes; pc-b's edit is later.
    const edit = (batch: number, at: number, byte: number) => ({
      ...upload(batch, [], at),
      changes: [[0, 'r', base, at, new Uint8Array([byte])] as [number, string, number, number, Uint8Array]],
    });
    const [ea, eb] = await Promise.all([
      applyUpload(a, 'pc-a', edit(2, 20, 0xaa), 1e12, LIMITS),
      applyUpload(b, 'pc-b', edit(1, 30, 0xbb), 1e12, LIMITS),
    ]);
    const current = await a.getRecord(X, 'contacts', 'r');
    expect(current).toMatchObject({ origin: 'pc-b', body: new Uint8Array([0xbb]) });
    // The earlier edit survives as a conflict copy, whichever order the two ran in.
    const issues = [...applied(ea).ack.issues, ...applied(eb).ack.issues];
    expect(issues.map((i) => i.code).sort()).toEqual([expect.stringMatching(/^conflict-(lost|won)$/)]);
    const copies = await a.recordsAfter({
      subscriber: X,
      after: 0,
      upTo: 99,
      categories: ['contacts'],
      limit: 99,
    });
    expect(copies.find((r) => r.recordId !== 'r')?.body).toEqual(new Uint8Array([0xaa]));
    await Promise.all([a.close(), b.close()]);
  });

  it('applies a batch retried on the other process at the same instant once, answering the retry from the ack', async () => {
    const { a, b } = await twoProcesses();
    await subscriberWith(a, 'pc-a');
    const request = upload(7, ['x', 'y', 'z'], 50);
    const outcomes = await Promise.all([
      applyUpload(a, 'pc-a', request, 1e12, LIMITS),
      applyUpload(b, 'pc-a', request, 1e12, LIMITS),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['applied', 'replayed']);
    expect((await a.changeLog(X)).map((c) => c.recordId)).toEqual(['x', 'y', 'z']);
    const [first, second] = outcomes.map((o) =>
      o.kind === 'applied' || o.kind === 'replayed' ? o.ack.seqs : [],
    );
    expect(first).toEqual(second);
    await Promise.all([a.close(), b.close()]);
  });
  it('runs a deadlock victim again: two transactions locking two subscribers in opposite orders both commit', async () => {
    const { a, b } = await twoProcesses();
    const Y = '228062800000208';
    await subscriberWith(a);
    await a.transaction((tx) =>
      tx.putSubscriber({ subscriber: Y, iccid: null, loginPasswordHash: null, createdAt: 1 }),
    );
    let runs = 0;
    let arrived = 0;
    let bothHoldOne = () => {};
    const barrier = new Promise<void>((r) => {
      bothHoldOne = r;
    });
    const crossed = (store: SyncStore, first: string, second: string) =>
      store.transaction(async (tx) => {
        runs++;
        await tx.latestSeq(first);
        if (++arrived === 2) bothHoldOne();
        await barrier;
        return tx.putRecord(
          second,
          { category: 'contacts', recordId: first, body: null, origin: 't', editedAt: 1 },
          1,
        );
      });
    const seqs = await Promise.all([crossed(a, X, Y), crossed(b, Y, X)]);
    // Each committed once: one record in each subscriber's log.
    expect(seqs).toEqual([1, 1]);
    // At least the victim ran again. On a loaded machine both may be chosen (each backend's deadlock check can
    // run before the other victim's locks are released), and two retries in opposite orders can cross again,
    // so the count is bounded by the attempts, not fixed (a CI run saw 4).
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(runs).toBeLessThanOrEqual(2 * 3);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('PostgreSQL store failures', () => {
  it('rolls back a transaction whose connection is killed in the middle, and goes on with a new one', async () => {
    const url = await cluster.createDatabase();
    const store = await openPostgresStore(url);
    await subscriberWith(store);
    const killed = store.transaction(async (tx) => {
      await tx.putRecord(X, { category: 'contacts', recordId: 'a', body: null, origin: 't', editedAt: 1 }, 1);
      await admin(url, (c) =>
        c.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND state = 'idle in transaction'`,
        ),
      );
      await tx.putRecord(X, { category: 'contacts', recordId: 'b', body: null, origin: 't', editedAt: 1 }, 1);
    });
    const error = await killed.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PostgresStoreError);
    expect(error).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(await store.latestSeq(X)).toBe(0);
    expect(await store.changeLog(X)).toEqual([]);
    const seq = await store.transaction((tx) =>
      tx.putRecord(X, { category: 'contacts', recordId: 'a', body: null, origin: 't', editedAt: 1 }, 1),
    );
    expect(seq).toBe(1);
    await store.close();
  });

  it('replaces idle connections the server ended, without failing the next request', async () => {
    const url = await cluster.createDatabase();
    const store = await openPostgresStore(url);
    await subscriberWith(store, 'pc-a');
    await store.touchTerminal('pc-a', 5);
    const ended = await admin(url, async (c) => {
      const r = await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'simsync'`,
      );
      return r.rowCount;
    });
    expect(ended).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 100));
    expect((await store.getTerminal('pc-a'))?.lastSeenAt).toBe(5);
    await store.touchTerminal('pc-a', 6);
    expect((await store.getTerminal('pc-a'))?.lastSeenAt).toBe(6);
    await store.close();
  });

  it('fails as unavailable, retryable, when the server cannot be reached', async () => {
    const error = await openPostgresStore('postgres://postgres@127.0.0.1:1/none', {
      connectTimeoutMs: 2000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PostgresStoreError);
    expect(error).toMatchObject({ kind: 'unavailable', retryable: true });
  });

  it('classifies a broken rule as a constraint error, not retryable', async () => {
    const store = await openPostgresStore(await cluster.createDatabase());
    const error = await store
      .transaction((tx) => tx.putTerminal(terminal('pc-a')))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ kind: 'constraint', sqlState: '23503', retryable: false });
    await store.close();
  });
});

describe('PostgreSQL store reads', () => {
  const revoke = (terminalId: string): AuditEntry => ({
    at: 1,
    subscriber: X,
    terminalId,
    terminalOwner: null,
    action: 'revoke',
    outcome: 'accepted',
    reason: null,
    uploaded: 0,
    uploadedBytes: 0,
    downloaded: 0,
    downloadedBytes: 0,
  });

  it('does not skip a revoke whose transaction commits after a later one (audit ids are not commit order)', async () => {
    const { a, b } = await twoProcesses();
    const start = await a.revokedSince(null);
    let commit = () => {};
    const held = new Promise<void>((r) => {
      commit = r;
    });
    let written = () => {};
    const inserted = new Promise<void>((r) => {
      written = r;
    });
    // Process B writes its revoke first (the smaller id) but commits last.
    const slow = b.transaction(async (tx) => {
      await tx.appendAudit(revoke('slow'));
      written();
      await held;
    });
    await inserted;
    await a.appendAudit(revoke('quick'));
    const seen: string[] = [];
    const first = await a.revokedSince(start.cursor);
    seen.push(...first.terminalIds);
    commit();
    await slow;
    const second = await a.revokedSince(first.cursor);
    seen.push(...second.terminalIds);
    expect(seen.sort()).toEqual(['quick', 'slow']);
    expect((await a.revokedSince(second.cursor)).terminalIds).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('[0094]: a ranged read fetches the pages of its range, not the whole body', async () => {
    const url = await cluster.createDatabase();
    const store = await openPostgresStore(url);
    await subscriberWith(store);
    const whole = Uint8Array.from({ length: 4 << 20 }, (_, i) => (i * 7) % 251);
    await store.transaction((tx) =>
      tx.putRecord(X, { category: 'contacts', recordId: 'big', body: whole, origin: 't', editedAt: 1 }, 1),
    );
    expect((await store.getBodyRange(X, 'contacts', 'big', 3 << 20, 65_536))?.bytes).toEqual(
      whole.slice(3 << 20, (3 << 20) + 65_536),
    );
    const pagesFor = (offset: number, length: number) =>
      admin(url, async (c) => {
        const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${BODY_RANGE_SQL}`, [
          offset + 1,
          length,
          X,
          0,
          'big',
        ]);
        const plan = (r.rows[0] as { 'QUERY PLAN': { Plan: Record<string, number> }[] })['QUERY PLAN'][0]
          ?.Plan;
        return (plan?.['Shared Hit Blocks'] ?? 0) + (plan?.['Shared Read Blocks'] ?? 0);
      });
    const range = await pagesFor(3 << 20, 65_536);
    const everything = await pagesFor(0, 4 << 20);
    // 4 MiB out of line is ~520 TOAST pages; 64 KiB of it is ~10.
    expect(everything).toBeGreaterThan(400);
    expect(range).toBeLessThan(40);
    await store.close();
  });
});
