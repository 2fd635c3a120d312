import mqtt, { type MqttClient } from 'mqtt';
import {
  decodeReply,
  downTopic,
  MAX_MESSAGE_BYTES,
  type Reply,
  unwrap,
  upTopic,
  username,
} from '../../core/protocol/index.js';

const WAIT_MS = 10_000;

/**
 * A terminal's t-channel MQTT connection for the fuzzer: raw payloads up,
 * replies in arrival order (the server answers one request of a terminal at
 * a time, so the next reply is the answer to the last payload). Notices
 * (`updates`) are set aside. Every wait is bounded.
 */
export class FuzzClient {
  private readonly replies: Reply[] = [];
  private waiter: (() => void) | undefined;
  /** Payloads the server sent that are not valid replies (must stay empty). */
  readonly badReplies: string[] = [];

  private constructor(
    private client: MqttClient,
    readonly terminalId: string,
    private readonly port: number,
    private readonly credential: string,
  ) {
    this.listen();
  }

  static async open(port: number, terminalId: string, credential: string): Promise<FuzzClient> {
    return new FuzzClient(await connect(port, terminalId, credential), terminalId, port, credential);
  }

  /** Replies are unwrapped in arrival order (a fuzzed envelope byte makes the server compress them). */
  private inbox: Promise<void> = Promise.resolve();

  private listen(): void {
    this.client.on('message', (_topic, payload) => {
      this.inbox = this.inbox.then(async () => {
        try {
          const { cbor } = await unwrap(new Uint8Array(payload), MAX_MESSAGE_BYTES);
          const reply = decodeReply(cbor);
          if (reply.type === 'updates') return;
          this.replies.push(reply);
          this.waiter?.();
        } catch (e) {
          this.badReplies.push(`${Buffer.from(payload).toString('hex')}: ${String(e)}`);
        }
      });
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Connects again (after the server closed the connection for a refused publish). */
  async reopen(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
    this.client = await connect(this.port, this.terminalId, this.credential);
    this.replies.length = 0;
    this.listen();
  }

  /** Publishes `payload` on this terminal's up topic and resolves with the server's answer. */
  async send(payload: Uint8Array): Promise<Reply> {
    await this.publish(upTopic(this.terminalId), payload);
    return this.next();
  }

  /**
   * Publishes where this terminal may not (another terminal's topic) and
   * resolves once the server has closed the connection for it, as Aedes does
   * when authorizePublish refuses; rejects if it stays open.
   */
  async intrude(topic: string, payload: Uint8Array): Promise<void> {
    const closed = new Promise<void>((resolve) => this.client.once('close', () => resolve()));
    this.client.publish(topic, Buffer.from(payload), { qos: 1 }, () => undefined);
    await bounded(closed, `the connection closed after a publish on ${topic}`);
  }

  publish(topic: string, payload: Uint8Array): Promise<unknown> {
    return bounded(this.client.publishAsync(topic, Buffer.from(payload), { qos: 1 }), `PUBACK on ${topic}`);
  }

  next(): Promise<Reply> {
    return bounded(
      new Promise<Reply>((resolve) => {
        const take = () => {
          const reply = this.replies.shift();
          if (reply === undefined) return false;
          this.waiter = undefined;
          resolve(reply);
          return true;
        };
        if (!take()) this.waiter = take;
      }),
      `a reply to ${this.terminalId}`,
    );
  }

  end(): Promise<void> {
    return this.client.endAsync(true);
  }
}

async function connect(port: number, terminalId: string, credential: string): Promise<MqttClient> {
  const client = await bounded(
    mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: WAIT_MS,
      clientId: `t-${terminalId}`,
      username: username('t', terminalId),
      password: credential,
    }),
    `CONNACK for ${terminalId}`,
  );
  client.on('error', () => undefined);
  // Nagle's algorithm holds each small request ~40 ms (DESIGN.md "Facts worth knowing").
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  await bounded(client.subscribeAsync(downTopic(terminalId), { qos: 1 }), `SUBACK for ${terminalId}`);
  return client;
}

function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
