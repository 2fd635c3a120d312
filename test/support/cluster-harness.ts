import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import type { Admin } from '../../broker/admin.js';
import { startSyncServer } from '../../broker/server.js';
import { openPostgresStore } from '../../broker/store/postgres-store.js';
import { openSqliteStore } from '../../broker/store/sqlite-store.js';
import type { SyncStore } from '../../broker/store/sync-store.js';
import {
  type Category,
  decodeReply,
  downTopic,
  encodeRequest,
  type Reply,
  type Request,
  regReplyTopic,
  upTopic,
} from '../../core/protocol/index.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';
import { startRedis, type TestRedis } from './redis-server.js';

/**
 * Issue 18: `simsync server` processes as they are deployed, for the cluster
 * test (test/cluster/haproxy.test.ts) and bench (bench/cluster.ts).
 *
 *   startCluster({ brokers: 3 })   PostgreSQL + Redis, N brokers with
 *                                  --postgres --redis --proxy-protocol, HAProxy
 *                                  in front (leastconn, PROXY v2, TCP checks)
 *   startEmbedded()                one broker on a SQLite file, nothing else
 *
 * Both answer the same Deployment: where terminals connect, the broker
 * processes (each with a metrics endpoint), and the operator's Admin on the
 * same store in this process. stop() leaves nothing running, and a process
 * that exits without it kills what it started.
 */
export interface Deployment {
  /** Where terminals connect: HAProxy's front port, or the one server's own. */
  readonly port: number;
  readonly brokers: readonly BrokerProcess[];
  /** The operator's tools on the brokers' store, in this process (no listener). */
  readonly admin: Admin;
  readonly store: SyncStore;
  stop(): Promise<void>;
}

export interface Cluster extends Deployment {
  readonly postgres: TestPostgres;
  readonly redis: TestRedis;
  /** The brokers' database. */
  readonly url: string;
  readonly haproxy: ChildProcess;
}

export interface ClusterOptions {
  /** Broker processes (default 3). */
  brokers?: number;
  /** A PostgreSQL to use (a fresh database in it); stop() leaves it running. */
  postgres?: TestPostgres;
  /** A Redis to use; stop() leaves it running, flushed. */
  redis?: TestRedis;
  /** Settings of a PostgreSQL started here (test/support/postgres.ts defaults: fsync off). */
  postgresSettings?: Record<string, string>;
}

/** One `simsync server` process. */
export interface BrokerProcess {
  readonly port: number;
  readonly metricsPort: number;
  readonly process: ChildProcess;
  /** `simsync_connected_clients` from its metrics endpoint. */
  connectedClients(): Promise<number>;
  /** The last 4 kB it wrote (pino JSON lines), for failures. */
  output(): string;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Spawns a process whose output is kept drained (its last 4 kB, for errors). */
function spawnDrained(command: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

/** Starts a process and resolves once its output matches `ready`. */
function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  what: string,
): Promise<{ child: ChildProcess; output: () => string }> {
  const { child, output } = spawnDrained(command, args);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${output()}`)), 30_000);
    const check = () => {
      if (!ready.test(output())) return;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      resolve({ child, output });
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${output()}`));
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

async function scrape(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const value = /^simsync_connected_clients (\d+)$/m.exec(text)?.[1];
  if (value === undefined) throw new Error(`no simsync_connected_clients on :${metricsPort}`);
  return Number(value);
}

/** `simsync server` with `args` (store and cluster flags), on free MQTT and metrics ports. */
async function startBroker(args: string[]): Promise<BrokerProcess> {
  const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
  const flags = [...args, '--port', String(port), '--metrics-port', String(metricsPort)];
  const { child, output } = await startProcess(
    process.execPath,
    [join(ROOT, 'bin', 'simsync.js'), 'server', ...flags],
    /server ready/,
    `broker on ${port}`,
  );
  return { port, metricsPort, process: child, connectedClients: () => scrape(metricsPort), output };
}

/** The test's HAProxy: deploy/cluster/haproxy.cfg with checks fast enough to see a kill within a second. */
function haproxyConfig(front: number, brokers: readonly BrokerProcess[]): string {
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
    ...brokers.map((b, i) => `    server broker${i} 127.0.0.1:${b.port}`),
    '',
  ].join('\n');
}

/** The CONNACK return code of one CONNECT, undefined when none came. */
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
    // A CONNACK refusal carries its return code; a reset (no broker up behind HAProxy yet) a string.
    client.once('error', (e: Error & { code?: unknown }) =>
      resolve(typeof e.code === 'number' ? e.code : undefined),
    );
    client.once('close', () => resolve(undefined));
  });
  client.end(true);
  return code;
}

/** PostgreSQL + Redis + `brokers` broker processes behind HAProxy; resolves once CONNECTs pass. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  if (spawnSync('haproxy', ['-v']).error) {
    throw new Error(
      'haproxy is not installed: apt-get install haproxy (scripts/install-system-deps.sh does it)',
    );
  }
  const count = options.brokers ?? 3;
  const undo = new Undo();
  try {
    const [postgres, redis] = await Promise.all([
      options.postgres ?? startTestPostgres({ settings: options.postgresSettings ?? {} }),
      options.redis ?? startRedis(),
    ]);
    undo.push(() => (options.postgres ? undefined : postgres.stop()));
    undo.push(() => (options.redis ? redis.flush() : redis.stop()));
    const url = await postgres.createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'simsync-cluster-'));
    undo.push(() => rmSync(dir, { recursive: true, force: true }));
    // The store migrates once, before the brokers start.
    const store = await openPostgresStore(url);
    undo.push(() => store.close());
    const operator = await startSyncServer({ store, port: null });
    undo.push(() => operator.close());
    const flags = ['--data', dir, '--postgres', url, '--redis', redis.url, '--proxy-protocol'];
    const brokers = await undo.all(
      Array.from({ length: count }, () => startBroker(flags)),
      (b) => kill(b.process),
    );
    const front = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(front, brokers));
    // HAProxy says nothing when all is well: it is up when CONNECTs pass.
    const { child: haproxy, output } = spawnDrained('haproxy', ['-db', '-f', cfg]);
    undo.push(() => kill(haproxy));
    // Up when CONNECTs through it are answered (any CONNACK), twice per broker in a row.
    let answered = 0;
    for (let tries = 0; answered < 2 * count && tries < 100; tries++) {
      const code = await connackThrough(front);
      answered = code === undefined ? 0 : answered + 1;
      if (code === undefined) await sleep(100);
    }
    if (answered < 2 * count) throw new Error(`HAProxy did not pass CONNECTs to the brokers: ${output()}`);
    // The probes were failed CONNECTs: forget them (the attempt limits live in Redis).
    await redis.flush();
    return {
      port: front,
      brokers,
      admin: operator.admin,
      store,
      postgres,
      redis,
      url,
      haproxy,
      stop: () => undo.run(),
    };
  } catch (e) {
    await undo.run();
    throw e;
  }
}

/** What was started, undone in reverse order (by stop(), or when a start fails half-way). */
class Undo {
  private readonly steps: (() => unknown)[] = [];

  push(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Awaits all of `starts`; each that succeeded is undone by `undo`, even when another failed. */
  async all<T>(starts: Promise<T>[], undo: (started: T) => unknown): Promise<T[]> {
    const settled = await Promise.allSettled(starts);
    for (const s of settled) if (s.status === 'fulfilled') this.push(() => undo(s.value));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }

  /** Runs every step, last first; stopping twice is harmless. */
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) await step();
  }
}

/** The embedded set-up: one broker process on a SQLite file, no Redis, no HAProxy. */
export async function startEmbedded(): Promise<Deployment> {
  const undo = new Undo();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'simsync-embedded-'));
    undo.push(() => rmSync(dir, { recursive: true, force: true }));
    // The file the server opens (cli/main.ts storeIn), migrated here first; WAL lets both use it.
    const store = openSqliteStore(join(dir, 'simsync.db'));
    undo.push(() => store.close());
    const operator = await startSyncServer({ store, port: null });
    undo.push(() => operator.close());
    const broker = await startBroker(['--data', dir]);
    undo.push(() => kill(broker.process));
    return { port: broker.port, brokers: [broker], admin: operator.admin, store, stop: () => undo.run() };
  } catch (e) {
    await undo.run();
    throw e;
  }
}

/** A terminal's MQTT connection: request/reply by `req`, notices kept, pending requests fail on close. */
export class TerminalConnection {
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
    return new TerminalConnection(client, up);
  }

  /** A registered terminal's connection (`t:<id>`, its credential). */
  static terminal(port: number, id: string, credential: string): Promise<TerminalConnection> {
    return TerminalConnection.open(port, `t:${id}`, credential, downTopic(id), upTopic(id));
  }

  /** Sends `message` with the next `req`; resolves its reply, rejects after `ms` or on close. */
  request(message: Record<string, unknown>, ms = 3000): Promise<Reply> {
    const req = this.next++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${String(message.type)}`)), ms);
      this.waiting.set(req, {
        resolve: (r) => {
          clearTimeout(timer);
          this.waiting.delete(req);
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

/**
 * Registers terminal `id` of `subscriber` as a terminal does: a one-time code
 * from the operator, claimed on the reg channel through `port`; resolves the
 * credential.
 */
export async function registerTerminal(
  port: number,
  admin: Admin,
  input: { id: string; subscriber: string; categories: Category[] },
): Promise<string> {
  const { code } = await admin.issueCode(input.subscriber, undefined, input.id);
  const nonce = randomBytes(16).toString('base64url');
  const reg = await TerminalConnection.open(
    port,
    `reg:${input.id}`,
    `${input.subscriber}:${code}`,
    regReplyTopic(input.id, nonce),
    upTopic(input.id, 'reg'),
  );
  try {
    const reply = await reg.request({
      type: 'register',
      subscriber: input.subscriber,
      categories: input.categories,
    });
    if (reply.type !== 'registered') throw new Error(`registration failed: ${JSON.stringify(reply)}`);
    return reply.credential;
  } finally {
    await reg.end();
  }
}
