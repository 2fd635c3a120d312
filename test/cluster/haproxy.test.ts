import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SyncServer, startSyncServer } from '../../broker/server.js';
import { openPostgresStore } from '../../broker/store/postgres-store.js';
import type { SyncStore } from '../../broker/store/sync-store.js';
import {
  categoryCode,
  decodeReply,
  downTopic,
  encodeRequest,
  type Reply,
  type Request,
  regReplyTopic,
  upTopic,
} from '../../core/protocol/index.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

/**
 * Issue 18: three `simsync server` processes on one PostgreSQL and one Redis,
 * behind a real HAProxy (deploy/cluster/haproxy.cfg, PROXY protocol v2, TCP
 * checks). One broker is killed with SIGKILL in the middle of uploads from 20
 * terminals: they reconnect through HAProxy and retry, and every upload they
 * saw acknowledged is in PostgreSQL exactly once, in a gap-free change log.
 */

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a process and resolves once a line of its output matches. */
function startProcess(command: string, args: string[], ready: RegExp, what: string): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out.slice(-2000)}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

function haproxyConfig(front: number, brokers: number[]): string {
  return [
    'global',
    '    maxconn 4000',
    'defaults',
    '    mode tcp',
    '    timeout connect 2s',
    '    timeout client 120s',
    '    timeout server 120s',
    '    option redispatch',
    '    retries 2',
    'frontend mqtt',
    `    bind 127.0.0.1:${front}`,
    '    default_backend brokers',
    'backend brokers',
    '    balance leastconn',
    '    default-server check inter 300ms fall 1 rise 2 send-proxy-v2 check-send-proxy',
    ...brokers.map((port, i) => `    server broker${i} 127.0.0.1:${port}`),
    '',
  ].join('\n');
}

/** A terminal's MQTT connection through the balancer, with request/reply and a close signal. */
class Connection {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  readonly notices: Reply[] = [];

  private constructor(
    readonly client: MqttClient,
    private readonly up: string,
  ) {
    client.on('message', (_topic, payload) => {
      const reply = decodeReply(payload);
      if (reply.type === 'updates') {
        this.notices.push(reply);
        return;
      }
      if (reply.req !== null) this.waiting.get(reply.req)?.resolve(reply);
    });
    client.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
    });
  }

  static async open(port: number, username: string, password: string, replies: string, up: string) {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      clientId: `${username}-${Math.random().toString(36).slice(2)}`,
      username,
      password,
    });
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });
    await client.subscribeAsync(replies, { qos: 1 });
    return new Connection(client, up);
  }

  request(message: Record<string, unknown>, ms = 3000): Promise<Reply> {
    const req = this.next++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${String(message.type)}`)), ms);
      this.waiting.set(req, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.client.publish(this.up, Buffer.from(encodeRequest({ ...message, req } as Request)), { qos: 1 });
    });
  }

  end(): Promise<void> {
    return this.client.endAsync(true).catch(() => undefined);
  }
}

/** The CONNACK return code of one CONNECT through the balancer, undefined when none came. */
async function connackThrough(port: number): Promise<number | undefined> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 1000,
    username: 'probe',
    password: 'probe',
  });
  client.on('error', () => undefined);
  const code = await new Promise<number | undefined>((resolve) => {
    client.once('connect', () => resolve(0));
    client.once('error', (e: Error & { code?: number }) => resolve(e.code));
    client.once('close', () => resolve(undefined));
  });
  client.end(true);
  return code;
}

describe('three broker processes behind HAProxy on PostgreSQL and Redis', () => {
  let pg: TestPostgres;
  let redis: TestRedis;
  let url: string;
  let dir: string;
  let front: number;
  const brokers: ChildProcess[] = [];
  let haproxy: ChildProcess | undefined;
  let store: SyncStore;
  let admin: SyncServer;

  beforeAll(async () => {
    if (spawnSync('haproxy', ['-v']).error) {
      throw new Error(
        'haproxy is not installed: apt-get install haproxy (scripts/install-system-deps.sh does it)',
      );
    }
    [pg, redis] = await Promise.all([startTestPostgres(), startRedis()]);
    url = await pg.createDatabase('cluster');
    dir = mkdtempSync(join(tmpdir(), 'simsync-haproxy-'));
    // The store migrates once, before the brokers start.
    store = await openPostgresStore(url);
    admin = await startSyncServer({ store, port: null });
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    for (const port of ports) {
      brokers.push(
        await startProcess(
          process.execPath,
          [
            'bin/simsync.js',
            'server',
            '--data',
            dir,
            '--postgres',
            url,
            '--redis',
            redis.url,
            '--proxy-protocol',
            '--port',
            String(port),
            '--metrics-port',
            '0',
          ],
          /server ready/,
          `broker on ${port}`,
        ),
      );
    }
    front = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(front, ports));
    haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'inherit', 'inherit'] });
    // Up when a CONNECT through it is answered (any CONNACK) on every broker.
    let answered = 0;
    for (let tries = 0; answered < 6 && tries < 100; tries++) {
      const code = await connackThrough(front);
      answered = code === undefined ? 0 : answered + 1;
      if (code === undefined) await sleep(100);
    }
    if (answered < 6) throw new Error('HAProxy did not pass CONNECTs to the brokers');
    // The probes were failed CONNECTs: forget them (the attempt limits live in Redis).
    await redis.flush();
  }, 60_000);

  afterAll(async () => {
    haproxy?.kill('SIGKILL');
    for (const b of brokers) b.kill('SIGKILL');
    await admin?.close();
    await store?.close();
    await Promise.all([pg?.stop(), redis?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL of one broker mid-upload: 20 terminals reconnect, every acknowledged change is stored once, notices flow', async () => {
    const SUBSCRIBERS = ['001010000000201', '001010000000202', '001010000000203', '001010000000204'];
    const TERMINALS = 20;
    const BATCHES = 12;
    for (const s of SUBSCRIBERS) await admin.admin.addSubscriber({ subscriber: s });

    // Registration through the balancer (reg channel), as a terminal does.
    const credentials: { id: string; subscriber: string; credential: string }[] = [];
    for (let i = 0; i < TERMINALS; i++) {
      const id = `t${i}`;
      const subscriber = SUBSCRIBERS[i % SUBSCRIBERS.length] as string;
      const { code } = await admin.admin.issueCode(subscriber, undefined, id);
      const nonce = `n${i}`.padEnd(22, 'x');
      const reg = await Connection.open(
        front,
        `reg:${id}`,
        `${subscriber}:${code}`,
        regReplyTopic(id, nonce),
        upTopic(id, 'reg'),
      );
      const reply = await reg.request({ type: 'register', subscriber, categories: ['contacts'] });
      await reg.end();
      if (reply.type !== 'registered') throw new Error(`registration failed: ${JSON.stringify(reply)}`);
      credentials.push({ id, subscriber, credential: reply.credential });
    }
    // A listener of the first subscriber, to see notices keep coming.
    const [first] = SUBSCRIBERS;
    const { code } = await admin.admin.issueCode(first as string, undefined, 'listener');
    const lreg = await Connection.open(
      front,
      'reg:listener',
      `${first}:${code}`,
      regReplyTopic('listener', 'l'.repeat(22)),
      upTopic('listener', 'reg'),
    );
    const lcred = await lreg.request({ type: 'register', subscriber: first, categories: ['contacts'] });
    await lreg.end();
    const open = (id: string, credential: string) =>
      Connection.open(front, `t:${id}`, credential, downTopic(id), upTopic(id));
    let listener = await open('listener', (lcred as { credential: string }).credential);

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
    brokers[0]?.kill('SIGKILL');
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
      listener = await open('listener', (lcred as { credential: string }).credential);
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
