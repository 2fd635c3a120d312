import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SyncServer, startSyncServer } from '../../broker/server.js';
import { openSqliteStore } from '../../broker/store/sqlite-store.js';
import {
  connackCode,
  connectRaw,
  endClients,
  registerVia,
  TestTerminal,
  within,
  X,
} from '../../broker/test-support.js';
import { categoryCode, newTerminalIdentity } from '../../core/protocol/index.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

/**
 * Two broker processes of one cluster (issue 18; DESIGN.md "Scale"): each its
 * own Aedes with mqemitter-redis and aedes-persistence-redis on one real
 * redis-server, sharing one store. What one process does must hold on the other.
 */
describe('a cluster of two broker processes on Redis', () => {
  let redis: TestRedis;
  let dir: string;
  let a: SyncServer;
  let b: SyncServer;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  async function broker(): Promise<SyncServer> {
    return startSyncServer({
      store: openSqliteStore(join(dir, 'simsync.db')),
      host: '127.0.0.1',
      port: 0,
      redis: redis.url,
      revocationPollMs: 100,
    });
  }

  beforeEach(async () => {
    await redis.flush();
    dir = mkdtempSync(join(tmpdir(), 'simsync-cluster-'));
    a = await broker();
    b = await broker();
    await a.admin.addSubscriber({ subscriber: X, loginPassword: 'login' });
  });
  afterEach(async () => {
    await endClients();
    for (const s of [a, b]) {
      await s.close();
      await s.store.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('[0044]: an upload through one process notifies the subscriber’s terminal connected to the other', async () => {
    const pc = await TestTerminal.open(a.port ?? 0, 'pc', 't', await registerVia(a, 'pc', X));
    const phone = await TestTerminal.open(b.port ?? 0, 'phone', 't', await registerVia(a, 'phone', X));
    const ack = await pc.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [[categoryCode('contacts'), 'c1', 0, 1, new Uint8Array([1, 2, 3])]],
    });
    expect(ack.type).toBe('upload-ack');
    const [notice] = await phone.waitNotice();
    expect(notice).toMatchObject({ type: 'updates', categories: ['contacts'] });
    const page = await phone.request({ type: 'download', subscriber: X, after: 0, maxBytes: 1_000_000 });
    expect(page.type === 'changes' && page.changes.map((c) => c.slice(0, 3))).toEqual([
      [categoryCode('contacts'), 'c1', 1],
    ]);
  });

  it('a terminal reconnecting to the other process takes its session over there', async () => {
    const credential = await registerVia(a, 'pc', X);
    const first = await TestTerminal.open(a.port ?? 0, 'pc', 't', credential);
    const closed = first.waitClosed();
    const second = await TestTerminal.open(b.port ?? 0, 'pc', 't', credential);
    await closed;
    expect((await second.request({ type: 'probe', subscriber: X, after: 0 })).type).toBe('probe-result');
  });

  it('a revoke made through one process closes the connection held by the other', async () => {
    const stolen = await TestTerminal.open(b.port ?? 0, 'stolen', 't', await registerVia(a, 'stolen', X));
    const closed = stolen.waitClosed();
    await a.admin.revoke('stolen');
    await within(closed, 'the revoked terminal to be disconnected on the other process', 3000);
  });

  it('failed guesses count on both processes alike (attempt limits in Redis)', async () => {
    const guess = (s: SyncServer, i: number) =>
      connackCode(s.port ?? 0, { username: 'reg:guess', password: `${X}:wrong ${i}` });
    for (let i = 0; i < 3; i++) expect(await guess(a, i)).toBe(4);
    for (let i = 3; i < 5; i++) expect(await guess(b, i)).toBe(4);
    expect(await guess(a, 5)).toBe(3);
    expect(await guess(b, 6)).toBe(3);
  });

  it('a registration reply fanned out to every process reaches only the connection that asked', async () => {
    const { key, terminalId } = await newTerminalIdentity();
    await a.admin.addSubscriber({ subscriber: '228062800000208', loginPassword: 'other' });
    const camper = await connectRaw(b.port ?? 0, {
      username: `reg:${terminalId}`,
      password: '228062800000208:other',
    });
    const caught: string[] = [];
    camper.on('message', (topic) => caught.push(topic));
    for (const topic of [`ss/1/reg/${terminalId}/down`, `ss/1/reg/${terminalId}/#`, '#']) {
      await camper.subscribeAsync(topic).catch(() => undefined);
    }
    const owner = await TestTerminal.open(a.port ?? 0, terminalId, 'reg', `${X}:login`);
    const reply = await owner.request({ type: 'register', subscriber: X, categories: [], terminalKey: key });
    expect(reply.type).toBe('registered');
    await new Promise((r) => setTimeout(r, 200));
    expect(caught).toEqual([]);
  });
});
