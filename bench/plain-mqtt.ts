import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

export interface PlainRun {
  ms: number;
  messages: number;
  /** Bytes through the broker's sockets, both clients, both directions. */
  wireBytes: number;
}

/**
 * The baseline every sync figure is divided by: the same payloads as plain
 * MQTT QoS 1 publish → subscribe through an unmodified Aedes on loopback, in
 * the same run on the same machine (these machines are noisy).
 */
export async function plainPublish(payloads: readonly Uint8Array[]): Promise<PlainRun> {
  const broker = await Aedes.createBroker();
  let wireBytes = 0;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (d) => {
      wireBytes += d.length;
    });
    const write = socket.write.bind(socket);
    socket.write = ((chunk: Uint8Array, ...rest: never[]) => {
      wireBytes += chunk.length;
      return write(chunk, ...rest);
    }) as typeof socket.write;
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const options = { port, host: '127.0.0.1', protocolVersion: 4 as const, reconnectPeriod: 0, clean: true };
  const subscriber = await mqtt.connectAsync({ ...options, clientId: 'baseline-sub' });
  const publisher = await mqtt.connectAsync({ ...options, clientId: 'baseline-pub' });
  await subscriber.subscribeAsync('baseline/records', { qos: 1 });
  wireBytes = 0;
  const started = performance.now();
  const received = new Promise<void>((resolve) => {
    let count = 0;
    subscriber.on('message', () => {
      count++;
      if (count === payloads.length) resolve();
    });
  });
  await Promise.all(payloads.map((p) => publisher.publishAsync('baseline/records', p as Buffer, { qos: 1 })));
  await received;
  const ms = performance.now() - started;
  await Promise.all([publisher.endAsync(), subscriber.endAsync()]);
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  server.close();
  return { ms, messages: payloads.length, wireBytes };
}

export interface PairedRun {
  ms: number;
  /** Messages delivered to subscribers. */
  delivered: number;
}

/**
 * The baseline of many clients: `clients` mqtt.js clients on a broker
 * already listening at `port` (an unmodified Aedes in its own process),
 * each subscribed QoS 1 to its own topic and publishing QoS 1 to its
 * partner's (client i ↔ i xor 1; a lone client to itself) `rounds` bursts
 * of `burst` messages of `size` bytes, a burst awaited before the next.
 * Connections are set up before the clock starts and stay open.
 */
export async function plainPairs(
  port: number,
  shape: { clients: number; rounds: number; burst: number; size: number; timeoutMs: number },
): Promise<PairedRun> {
  const topic = (i: number) => `baseline/${i}`;
  const partner = (i: number) => ((i ^ 1) < shape.clients ? i ^ 1 : i);
  const clients: MqttClient[] = [];
  for (let i = 0; i < shape.clients; i += 50) {
    const batch = Array.from({ length: Math.min(50, shape.clients - i) }, async (_, j) => {
      const client = new mqtt.MqttClient(() => net.connect({ host: '127.0.0.1', port, noDelay: true }), {
        clientId: `baseline-${i + j}`,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: shape.timeoutMs,
      });
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      await client.subscribeAsync(topic(i + j), { qos: 1 });
      return client;
    });
    clients.push(...(await Promise.all(batch)));
  }
  const expected = shape.clients * shape.rounds * shape.burst;
  let delivered = 0;
  const payload = Buffer.alloc(shape.size, 0x5a);
  const all = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`baseline: ${delivered} of ${expected} delivered in ${shape.timeoutMs} ms`)),
      shape.timeoutMs,
    );
    for (const client of clients) {
      client.on('message', () => {
        if (++delivered < expected) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, i) => {
      for (let r = 0; r < shape.rounds; r++) {
        await Promise.all(
          Array.from({ length: shape.burst }, () =>
            client.publishAsync(topic(partner(i)), payload, { qos: 1 }),
          ),
        );
      }
    }),
  );
  await all;
  const ms = performance.now() - started;
  await Promise.all(clients.map((c) => c.endAsync()));
  return { ms, delivered };
}

export interface SessionRun extends PairedRun {
  sessions: number;
  /** Each session's time, connect to disconnect. */
  latencies: number[];
}

/**
 * The baseline with a sync's session shape (issue 20): each of `clients`
 * mqtt.js clients, `rounds` times in turn, opens a new connection (TCP,
 * CONNECT clean), subscribes QoS 1 to its own topic, publishes `burst`
 * messages of `size` bytes QoS 1 to it, waits for all of them to come back
 * through the broker, and disconnects. Every message crosses the broker
 * once each way, as a record crosses the sync server; a clean session keeps
 * nothing between connections, so nothing can arrive twice or late.
 */
export async function plainSessions(
  port: number,
  shape: { clients: number; rounds: number; burst: number; size: number; timeoutMs: number },
): Promise<SessionRun> {
  const payload = Buffer.alloc(shape.size, 0x5a);
  const latencies: number[] = [];
  let delivered = 0;
  const session = async (i: number, round: number): Promise<void> => {
    const started = performance.now();
    const client = new mqtt.MqttClient(() => net.connect({ host: '127.0.0.1', port, noDelay: true }), {
      clientId: `session-${i}`,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: shape.timeoutMs,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      const topic = `session/${i}`;
      await client.subscribeAsync(topic, { qos: 1 });
      const back = new Promise<void>((resolve, reject) => {
        let count = 0;
        const timer = setTimeout(
          () =>
            reject(
              new Error(`session baseline: client ${i} round ${round}: ${count} of ${shape.burst} back`),
            ),
          shape.timeoutMs,
        );
        client.on('message', () => {
          if (++count < shape.burst) return;
          clearTimeout(timer);
          resolve();
        });
      });
      await Promise.all(
        Array.from({ length: shape.burst }, () => client.publishAsync(topic, payload, { qos: 1 })),
      );
      await back;
      delivered += shape.burst;
    } finally {
      await client.endAsync();
    }
    latencies.push(performance.now() - started);
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: shape.clients }, async (_, i) => {
      for (let r = 0; r < shape.rounds; r++) await session(i, r);
    }),
  );
  return { ms: performance.now() - started, delivered, sessions: latencies.length, latencies };
}
