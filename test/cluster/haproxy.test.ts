import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categoryCode } from '../../core/protocol/index.js';
import {
  type Cluster,
  registerTerminal,
  startCluster,
  TerminalConnection,
} from '../support/cluster-harness.js';

/**
 * Issue 18: three `simsync server` processes on one PostgreSQL and one Redis,
 * behind a real HAProxy (deploy/cluster/haproxy.cfg, PROXY protocol v2, TCP
 * checks). One broker is killed with SIGKILL in the middle of uploads from 20
 * terminals: they reconnect through HAProxy and retry, and every upload they
 * saw acknowledged is in PostgreSQL exactly once, in a gap-free change log.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('three broker processes behind HAProxy on PostgreSQL and Redis', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ brokers: 3 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('SIGKILL of one broker mid-upload: 20 terminals reconnect, every acknowledged change is stored once, notices flow', async () => {
    const SUBSCRIBERS = ['001010000000201', '001010000000202', '001010000000203', '001010000000204'];
    const TERMINALS = 20;
    const BATCHES = 12;
    const { admin, port, store } = cluster;
    for (const s of SUBSCRIBERS) await admin.addSubscriber({ subscriber: s });

    // Registration through the balancer (reg channel), as a terminal does.
    const credentials: { id: string; subscriber: string; credential: string }[] = [];
    for (let i = 0; i < TERMINALS; i++) {
      const id = `t${i}`;
      const subscriber = SUBSCRIBERS[i % SUBSCRIBERS.length] as string;
      const credential = await registerTerminal(port, admin, { id, subscriber, categories: ['contacts'] });
      credentials.push({ id, subscriber, credential });
    }
    // A listener of the first subscriber, to see notices keep coming.
    const first = SUBSCRIBERS[0] as string;
    const lcred = await registerTerminal(port, admin, {
      id: 'listener',
      subscriber: first,
      categories: ['contacts'],
    });
    const open = (id: string, credential: string) => TerminalConnection.terminal(port, id, credential);
    let listener = await open('listener', lcred);

    const acknowledged = new Map<string, string>(); // record id → subscriber
    let killed = false;
    let reconnects = 0;
    const run = async ({ id, subscriber, credential }: (typeof credentials)[number]) => {
      let conn = await open(id, credential);
      for (let batch = 1; batch <= BATCHES; ) {
        const recordId = `${id}-r${batch}`;
        try {
          const reply = await conn.request({
            type: 'upload',
            subscriber,
            batch,
            changes: [[categoryCode('contacts'), recordId, 0, batch, new Uint8Array([batch])]],
          });
          if (reply.type !== 'upload-ack') throw new Error(`refused: ${JSON.stringify(reply)}`);
          acknowledged.set(recordId, subscriber);
          batch++;
        } catch (e) {
          if ((e as Error).message.startsWith('refused')) throw e;
          // The broker went away (or did not answer): reconnect through the balancer, send the same batch again.
          await conn.end();
          for (;;) {
            try {
              conn = await open(id, credential);
              reconnects++;
              break;
            } catch {
              await sleep(100);
            }
          }
        }
      }
      await conn.end();
    };
    const uploads = Promise.all(credentials.map(run));
    while (acknowledged.size < (TERMINALS * BATCHES) / 3) await sleep(20);
    cluster.brokers[0]?.process.kill('SIGKILL');
    killed = true;
    await uploads;
    expect(killed).toBe(true);
    expect(reconnects).toBeGreaterThan(0);
    expect(acknowledged.size).toBe(TERMINALS * BATCHES);

    // Exactly once, and gap-free per subscriber.
    for (const subscriber of SUBSCRIBERS) {
      const log = await store.changeLog(subscriber, 0, 10_000);
      const ids = log.map((e) => e.recordId);
      const mine = [...acknowledged].filter(([, s]) => s === subscriber).map(([r]) => r);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(mine.sort());
      expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    }

    // Notices still flow after the kill: one more change of the first subscriber reaches the listener.
    if (listener.client.disconnecting || !listener.client.connected) {
      listener = await open('listener', lcred);
    }
    const before = listener.notices.length;
    const writer = credentials.find((c) => c.subscriber === first) as (typeof credentials)[number];
    const conn = await open(writer.id, writer.credential);
    await conn.request({
      type: 'upload',
      subscriber: first,
      batch: BATCHES + 1,
      changes: [[categoryCode('contacts'), 'after-kill', 0, 99, new Uint8Array([9])]],
    });
    for (let i = 0; i < 100 && listener.notices.length === before; i++) await sleep(30);
    expect(listener.notices.length).toBeGreaterThan(before);
    await conn.end();
    await listener.end();
  }, 120_000);
});
