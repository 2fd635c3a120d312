import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SyncServer, startSyncServer } from '../../broker/server.js';
import { openPostgresStore } from '../../broker/store/postgres-store.js';
import { endClients, registerVia, TestTerminal, X } from '../../broker/test-support.js';
import { categoryCode, type Reply } from '../../core/protocol/index.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

/**
 * Issue 18: the services a cluster stands on go away and come back. Two
 * broker processes (each its own Aedes and store pool) on one PostgreSQL and
 * one Redis; the shared services are restarted under them.
 */
describe('a cluster whose PostgreSQL or Redis restarts', () => {
  let pg: TestPostgres;
  let redis: TestRedis;
  let a: SyncServer;
  let b: SyncServer;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startTestPostgres(), startRedis()]);
    const url = await pg.createDatabase('restarts');
    const broker = async () =>
      startSyncServer({ store: await openPostgresStore(url), host: '127.0.0.1', port: 0, redis: redis.url });
    a = await broker();
    b = await broker();
    await a.admin.addSubscriber({ subscriber: X });
  }, 60_000);
  afterAll(async () => {
    await endClients();
    for (const s of [a, b]) {
      await s?.close();
      await s?.store.close();
    }
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  const upload = (t: TestTerminal, batch: number, recordId: string) =>
    t.request({
      type: 'upload',
      subscriber: X,
      batch,
      changes: [[categoryCode('contacts'), recordId, 0, batch, new Uint8Array([batch])]],
    });

  it('PostgreSQL restarted: requests meanwhile get a retryable `unavailable`, the retry succeeds, nothing acknowledged is lost', async () => {
    const pc = await TestTerminal.open(a.port ?? 0, 'pc', 't', await registerVia(a, 'pc', X));
    expect((await upload(pc, 1, 'before')).type).toBe('upload-ack');

    const restarted = pg.restart(1500);
    await new Promise((r) => setTimeout(r, 300));
    const during: Reply[] = [];
    let ack: Reply | undefined;
    for (let attempt = 0; attempt < 60 && ack === undefined; attempt++) {
      const reply = await upload(pc, 2, 'during');
      if (reply.type === 'upload-ack') ack = reply;
      else {
        during.push(reply);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await restarted;
    expect(ack?.type).toBe('upload-ack');
    expect(during.length).toBeGreaterThan(0);
    for (const r of during) expect(r).toMatchObject({ type: 'error', code: 'unavailable' });

    const log = await a.store.changeLog(X, 0, 100);
    expect(log.map((e) => e.recordId)).toEqual(['before', 'during']);
  }, 60_000);

  it('Redis restarted: the brokers recover, replies and notices cross processes again', async () => {
    const pc = await TestTerminal.open(a.port ?? 0, 'pc2', 't', await registerVia(a, 'pc2', X));
    const phone = await TestTerminal.open(b.port ?? 0, 'phone', 't', await registerVia(a, 'phone', X));
    await redis.restart();
    // Fan-out resubscribes on reconnect; until then a reply may be late, never lost for a retried request.
    let ack: Reply | undefined;
    for (let attempt = 0; attempt < 20 && ack === undefined; attempt++) {
      ack = await upload(pc, 1, 'after-redis').catch(() => undefined);
    }
    expect(ack?.type).toBe('upload-ack');
    const notices = await phone.waitNotice();
    expect(notices.at(-1)).toMatchObject({ type: 'updates', categories: ['contacts'] });
  }, 60_000);
});
