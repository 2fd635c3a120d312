import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeEach } from 'vitest';
import {
  type Category,
  type Channel,
  decodeReply,
  downTopic,
  encodeRequest,
  MAX_MESSAGE_BYTES,
  type Reply,
  type Request,
  regReplyTopic,
  type UpdatesNotice,
  unwrap,
  upTopic,
  username,
  wrap,
} from '../core/protocol/index.js';
import { CLUSTERED, serverOptions } from '../test/support/backend.js';
import { type SyncServer, type SyncServerOptions, startSyncServer } from './server.js';
import { openSqliteStore } from './store/sqlite-store.js';

/**
 * Helpers for the broker's tests: a real server on an ephemeral port and real
 * mqtt.js clients. Every wait ends with a timeout.
 */

export const WAIT_MS = 5000;

export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Request ids for `roundTrip`, apart from those a TestTerminal counts up from 1. */
let barrierReq = 0x7000_0000;

/**
 * A barrier on a raw connection: a probe on its up topic and the answer on
 * its down topic. Whatever the server sent this connection before the answer
 * (a notice, a message that must not arrive) has arrived once this resolves,
 * as one connection's packets come in order.
 */
export async function roundTrip(client: MqttClient, terminalId: string, subscriber: string): Promise<void> {
  const req = barrierReq++;
  const answered = new Promise<void>((resolve) => {
    const onMessage = (topic: string, payload: Buffer) => {
      if (topic !== downTopic(terminalId)) return;
      const reply = decodeReply(payload);
      if (reply.type === 'updates' || reply.req !== req) return;
      client.off('message', onMessage);
      resolve();
    };
    client.on('message', onMessage);
  });
  const probe = encodeRequest({ type: 'probe', req, subscriber, after: 0 });
  await within(client.publishAsync(upTopic(terminalId), Buffer.from(probe), { qos: 1 }), 'PUBACK');
  await within(answered, `the answer to round trip ${req}`);
}

/**
 * A server on an ephemeral port. Its attempt limits are loose, so tests that
 * try many wrong secrets on purpose see each refusal for what it is; the
 * limits themselves are tested with their defaults (test/attacks/).
 */
export async function startTestServer(options: Partial<SyncServerOptions> = {}): Promise<SyncServer> {
  // Clustered runs (vitest project `clustered`): PostgreSQL + Redis instead of SQLite alone.
  const backend: Partial<SyncServerOptions> & { store: SyncServerOptions['store'] } = CLUSTERED
    ? { store: openSqliteStore(':memory:'), ...(await serverOptions()) }
    : { store: openSqliteStore(':memory:') };
  return startSyncServer({
    host: '127.0.0.1',
    port: 0,
    attemptLimits: { freeFailures: 1000, lockoutAfter: 10_000 },
    ...backend,
    ...options,
  });
}

export async function stopTestServer(server: SyncServer): Promise<void> {
  await server.close();
  await server.store.close();
}

const clients = new Set<MqttClient>();

/** Ends every client opened by these helpers (afterEach). */
export async function endClients(): Promise<void> {
  await Promise.all([...clients].map((c) => c.endAsync(true).catch(() => undefined)));
  clients.clear();
}

/**
 * A fresh test server (startTestServer) for each test of the suite that
 * calls it, handed to `use` before the test; after the test the helpers'
 * clients end and the server stops.
 */
export function serverEachTest(use: (server: SyncServer) => void): void {
  let server: SyncServer | undefined;
  beforeEach(async () => {
    server = await startTestServer();
    use(server);
  });
  afterEach(async () => {
    await endClients();
    if (server) await stopTestServer(server);
    server = undefined;
  });
}

/** A raw mqtt.js connection; rejects with the CONNACK refusal (`code` = return code). */
export async function connectRaw(port: number, options: IClientOptions, url = `mqtt://127.0.0.1:${port}`) {
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: WAIT_MS,
    ...options,
  });
  clients.add(client);
  client.on('error', () => undefined);
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(Object.assign(new Error('closed before CONNACK'), { code: -1 })));
      }),
      'CONNACK',
    );
  } catch (e) {
    client.end(true);
    throw e;
  }
  return client;
}

/** The CONNACK return code a connection attempt gets (0 = accepted). */
export async function connackCode(port: number, options: IClientOptions): Promise<number> {
  try {
    const client = await connectRaw(port, options);
    client.end(true);
    return 0;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

/** The QoS a SUBSCRIBE is granted, 128 when refused (mqtt.js turns 0x80 into an error carrying it). */
export async function grantedQos(client: MqttClient, topic: string, qos: 0 | 1 | 2 = 1): Promise<number> {
  try {
    const granted = await within(client.subscribeAsync(topic, { qos }), `SUBACK for ${topic}`);
    return granted[0]?.qos ?? -1;
  } catch (e) {
    const code = (e as { packet?: { granted?: number[] } }).packet?.granted?.[0];
    if (code === 128) return code;
    throw e;
  }
}

type Outgoing = Request extends infer R ? (R extends { req: number } ? Omit<R, 'req'> : never) : never;

/** A terminal's connection: requests on its up topic, replies and notices from its down topic. */
export class TestTerminal {
  private nextReq = 1;
  /** Told of every message as it arrives. */
  private readonly watchers = new Set<() => void>();
  readonly notices: UpdatesNotice[] = [];
  readonly replies: Reply[] = [];
  /** Replies that came deflated (core/protocol/envelope.ts). */
  compressedReplies = 0;
  private inbox: Promise<void> = Promise.resolve();

  private constructor(
    readonly client: MqttClient,
    readonly terminalId: string,
    readonly channel: Channel,
  ) {
    client.on('message', (_topic, payload) => {
      // In arrival order: a compressed reply (this connection used the envelope) inflates asynchronously.
      this.inbox = this.inbox.then(async () => {
        const { cbor, compressed } = await unwrap(payload, MAX_MESSAGE_BYTES);
        if (compressed) this.compressedReplies++;
        const reply = decodeReply(cbor);
        this.replies.push(reply);
        if (reply.type === 'updates') this.notices.push(reply);
        for (const watch of [...this.watchers]) watch();
      });
    });
  }

  /** Resolves with what `found` finds in the messages, checked now and at each arrival. */
  private until<T>(found: () => T | undefined, what: string): Promise<T> {
    let watch: (() => void) | undefined;
    const arrived = new Promise<T>((resolve) => {
      watch = () => {
        const value = found();
        if (value !== undefined) resolve(value);
      };
      this.watchers.add(watch);
      watch();
    });
    return within(arrived, what).finally(() => {
      if (watch) this.watchers.delete(watch);
    });
  }

  static async open(
    port: number,
    terminalId: string,
    channel: Channel,
    password: string,
    url?: string,
    extra: IClientOptions = {},
  ): Promise<TestTerminal> {
    const client = await connectRaw(
      port,
      { clientId: `${channel}-${terminalId}`, username: username(channel, terminalId), password, ...extra },
      url,
    );
    // As the engine does (core/net/server-session.ts): a reg connection's replies come on a topic of its own.
    const replies =
      channel === 'reg'
        ? regReplyTopic(terminalId, randomBytes(16).toString('base64url'))
        : downTopic(terminalId);
    if ((await grantedQos(client, replies)) === 128) throw new Error('subscription refused');
    return new TestTerminal(client, terminalId, channel);
  }

  /** Publishes raw bytes on this terminal's up topic. */
  async publishRaw(payload: Uint8Array): Promise<void> {
    await within(
      this.client.publishAsync(upTopic(this.terminalId, this.channel), Buffer.from(payload), { qos: 1 }),
      'PUBACK',
    );
  }

  /** The reply with this req, or (null) the next `error` with req null. */
  waitReply(req: number | null): Promise<Reply> {
    let next = req === null ? this.replies.length : 0;
    const matches = (r: Reply) =>
      req === null ? r.type === 'error' && r.req === null : r.type !== 'updates' && r.req === req;
    // Each message is looked at once, as it arrives (or now, for those already here).
    const found = () => {
      for (; next < this.replies.length; next++) {
        const r = this.replies[next];
        if (r && matches(r)) return r;
      }
      return undefined;
    };
    return this.until(found, `reply to req ${req}`);
  }

  /** A request as bare CBOR (as an older terminal sends it), or with the envelope (`enveloped`: as the engine does). */
  async request<T extends Reply['type'] = Reply['type']>(
    message: Outgoing,
    enveloped = false,
  ): Promise<Extract<Reply, { type: T }>> {
    const req = this.nextReq++;
    const reply = this.waitReply(req);
    const cbor = encodeRequest({ ...message, req } as Request);
    await this.publishRaw(enveloped ? await wrap(cbor, { compress: true, envelope: true }) : cbor);
    return (await reply) as Extract<Reply, { type: T }>;
  }

  async waitNotice(count = 1): Promise<UpdatesNotice[]> {
    await this.until(() => (this.notices.length >= count ? true : undefined), `${count} updates notice(s)`);
    return this.notices;
  }

  /** Resolves when the server closes this connection. */
  waitClosed(): Promise<void> {
    if (!this.client.connected) return Promise.resolve();
    return within(
      new Promise<void>((resolve) => this.client.once('close', () => resolve())),
      'connection close',
    );
  }

  end(): Promise<void> {
    return this.client.endAsync(true);
  }
}

export const X = '001010000000102';
export const Y = '228062800000208';

/** FIG. 8: adds the subscriber (if needed) and registers a terminal through the reg channel; returns its credential. */
export async function registerVia(
  server: SyncServer,
  terminalId: string,
  subscriber: string,
  categories: Category[] = ['contacts', 'mail'],
): Promise<string> {
  // A code bound to the terminal: the operator vouches for an ID made up by a test.
  const { code } = await server.admin.issueCode(subscriber, undefined, terminalId).catch(async () => {
    await server.admin.addSubscriber({ subscriber });
    return server.admin.issueCode(subscriber, undefined, terminalId);
  });
  const reg = await TestTerminal.open(server.port ?? 0, terminalId, 'reg', `${subscriber}:${code}`);
  const reply = await reg.request({ type: 'register', subscriber, categories });
  await reg.end();
  if (reply.type !== 'registered') throw new Error(`registration failed: ${JSON.stringify(reply)}`);
  return reply.credential;
}

/** Registers and connects a terminal on the t channel. */
export async function onlineTerminal(
  server: SyncServer,
  terminalId: string,
  subscriber: string,
  categories?: Category[],
): Promise<TestTerminal> {
  const credential = await registerVia(server, terminalId, subscriber, categories);
  return TestTerminal.open(server.port ?? 0, terminalId, 't', credential);
}

export const bytes = (...b: number[]) => new Uint8Array(b);
