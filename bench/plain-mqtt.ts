import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

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
