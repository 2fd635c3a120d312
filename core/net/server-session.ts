import mqtt, { type MqttClient } from 'mqtt';
import type { Clock, RadioLink, TimerId } from '../../hal/index.js';
import { randomBytes, toBase64Url } from '../bytes.js';
import { withDeadline } from '../deadline.js';
import { type ConnectRefusalCode, SyncError } from '../errors.js';
import {
  type Channel,
  decodeReply,
  downTopic,
  encodeRequest,
  MAX_MESSAGE_BYTES,
  ProtocolError,
  type Reply,
  type Request,
  regReplyTopic,
  type UpdatesNotice,
  unwrap,
  upTopic,
  username,
  wrap,
} from '../protocol/index.js';
import { byteStreamDuplex, type TrafficCounter } from './byte-stream-duplex.js';

export interface SessionOptions {
  link: RadioLink;
  clock: Clock;
  terminalId: string;
  channel: Channel;
  /** The terminal credential ('t'), or `<subscriberId>:<secret>` to register ('reg'). */
  password: string;
  /** Every wait (connect, subscribe, each request) ends after this long. */
  timeoutMs: number;
  keepaliveSeconds?: number;
  onNotice?: (notice: UpdatesNotice) => void;
}

/**
 * Requests and replies travel at QoS 0: the reply is the request's
 * acknowledgement (and an upload's ack comes after its durable commit), every
 * request has its timeout, and a clean session on one TCP connection gains
 * nothing from QoS 1, which Aedes does not resend within a live session
 * (DESIGN.md "Facts worth knowing") and which drops with the connection. QoS
 * 1 only cost a PUBACK each way per request (issue 20). The server still
 * serves one request of a terminal at a time: Aedes reads a client's next
 * packets only when its `published` hook is done, whatever the QoS.
 */
const REQUEST_QOS = 0;

type Outgoing = Request extends infer R ? (R extends { req: number } ? Omit<R, 'req'> : never) : never;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: TimerId;
}

/**
 * CONNACK return codes of MQTT 3.1.1 §3.2.2.3 the server answers with
 * (broker/access.ts): what each says, and the SyncError code it becomes.
 * 3 is "not now" (attempt limits): nothing about this terminal is decided.
 */
const REFUSALS: Record<number, { text: string; code: ConnectRefusalCode }> = {
  2: { text: 'identifier rejected', code: 'connect-refused' },
  3: { text: 'server busy or too many failed attempts: wait and retry', code: 'throttled' },
  4: { text: 'bad credential', code: 'connect-refused' },
  5: { text: 'not authorized (revoked, or registered to another subscriber)', code: 'revoked' },
};

/**
 * One MQTT connection to the sync server over the RadioLink's byte stream:
 * request/reply on the terminal's own topics, notices on the side.
 */
export class ServerSession {
  private nextReq = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: SessionOptions,
    /** Bytes on the wire both ways, MQTT framing included. */
    readonly traffic: TrafficCounter,
  ) {}

  static async connect(options: SessionOptions): Promise<ServerSession> {
    let stream: Awaited<ReturnType<RadioLink['open']>>;
    try {
      stream = await options.link.open();
    } catch (e) {
      throw new SyncError('link-down', `cannot reach the server: ${(e as Error).message}`, undefined, {
        cause: e,
      });
    }
    const traffic: TrafficCounter = { sent: 0, received: 0 };
    // A registration reply carries the new credential: it goes to a topic only
    // this connection knows (core/protocol/topics.ts regReplyTopic).
    const nonce = toBase64Url(randomBytes(16));
    const replies =
      options.channel === 'reg'
        ? regReplyTopic(options.terminalId, nonce)
        : downTopic(options.terminalId, 't');
    const client = new mqtt.MqttClient(() => byteStreamDuplex(stream, traffic) as never, {
      // Not the nonce: client IDs are seen by more than the server's ACL ($SYS notices).
      clientId: `${options.channel}-${options.terminalId}`,
      username: username(options.channel, options.terminalId),
      password: options.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: options.timeoutMs,
      keepalive: options.keepaliveSeconds ?? 60,
    });
    const session = new ServerSession(client, options, traffic);
    try {
      await session.waitConnected();
      // A connection lost before SUBACK rejects with mqtt.js' own error: it is a link-down like any other.
      const subscribed = client.subscribeAsync(replies, { qos: REQUEST_QOS }).catch((e: Error) => {
        throw new SyncError('link-down', `subscription failed: ${e.message}`, undefined, { cause: e });
      });
      const granted = await session.withTimeout(subscribed, 'subscribe');
      if (granted.some((g) => g.qos === 128))
        throw new SyncError('server-refused', 'server refused the subscription');
    } catch (e) {
      client.end(true);
      throw e;
    }
    client.on('message', (_topic, payload) => session.received(payload));
    client.on('close', () => session.onClosed());
    return session;
  }

  /** Sends a request and resolves with its reply; an `error` reply rejects 'server-refused'. */
  async request(message: Outgoing): Promise<Reply> {
    if (this.closed) throw new SyncError('link-down', 'connection to the server is closed');
    const req = this.nextReq++;
    // Compressed when worth it; the envelope tells the server this session reads compressed replies.
    const payload = await wrap(encodeRequest({ ...message, req } as Request), {
      compress: true,
      envelope: true,
    });
    if (this.closed) throw new SyncError('link-down', 'connection to the server is closed');
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        this.pending.delete(req);
        reject(new SyncError('timeout', `no answer to ${message.type} within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      this.pending.set(req, { resolve, reject, timer });
    });
    this.client.publish(upTopic(this.options.terminalId, this.options.channel), payload as never, {
      qos: REQUEST_QOS,
    });
    const answer = await reply;
    if (answer.type === 'error') {
      throw new SyncError('server-refused', `server refused ${message.type}: ${answer.message}`, answer.code);
    }
    return answer;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = this.options.clock.setTimeout(() => {
        this.client.end(true);
        resolve();
      }, this.options.timeoutMs);
      this.client.end(false, {}, () => {
        this.options.clock.clearTimeout(timer);
        resolve();
      });
    });
    this.onClosed();
  }

  private waitConnected(): Promise<void> {
    return this.withTimeout(
      new Promise<void>((resolve, reject) => {
        this.client.once('connect', () => resolve());
        this.client.once('error', (error: Error & { code?: number }) => {
          const refusal = error.code === undefined ? undefined : REFUSALS[error.code];
          if (refusal !== undefined)
            reject(
              new SyncError('server-refused', `server refused the connection: ${refusal.text}`, refusal.code),
            );
          else
            reject(
              new SyncError('link-down', `connection failed: ${error.message}`, undefined, { cause: error }),
            );
        });
        this.client.once('close', () =>
          reject(new SyncError('link-down', 'connection closed before CONNACK')),
        );
      }),
      'connect',
    );
  }

  private withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    const { clock, timeoutMs } = this.options;
    return withDeadline(
      clock,
      promise,
      timeoutMs,
      () => new SyncError('timeout', `${what} took longer than ${timeoutMs} ms`),
    );
  }

  /** Inflating is asynchronous: payloads are taken one after another, in the order they came. */
  private inbox: Promise<void> = Promise.resolve();

  private received(payload: Uint8Array): void {
    this.inbox = this.inbox.then(async () => {
      let cbor: Uint8Array;
      try {
        cbor = (await unwrap(payload, MAX_MESSAGE_BYTES)).cbor;
      } catch (e) {
        if (e instanceof ProtocolError)
          this.failAll(new SyncError('protocol', `bad reply from server: ${e.message}`));
        return;
      }
      this.onMessage(cbor);
    });
  }

  private onMessage(payload: Uint8Array): void {
    let reply: Reply;
    try {
      reply = decodeReply(payload);
    } catch (e) {
      if (e instanceof ProtocolError)
        this.failAll(new SyncError('protocol', `bad reply from server: ${e.message}`));
      return;
    }
    if (reply.type === 'updates') {
      this.options.onNotice?.(reply);
      return;
    }
    if (reply.req === null) {
      this.failAll(
        new SyncError(
          'server-refused',
          `server refused: ${'message' in reply ? reply.message : ''}`,
          'code' in reply ? reply.code : undefined,
        ),
      );
      return;
    }
    const waiting = this.pending.get(reply.req);
    if (waiting === undefined) return;
    this.pending.delete(reply.req);
    this.options.clock.clearTimeout(waiting.timer);
    waiting.resolve(reply);
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new SyncError('link-down', 'connection to the server closed'));
  }

  private failAll(error: Error): void {
    for (const [req, waiting] of this.pending) {
      this.options.clock.clearTimeout(waiting.timer);
      waiting.reject(error);
      this.pending.delete(req);
    }
  }
}
