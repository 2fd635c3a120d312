import net from 'node:net';

/**
 * A counting TCP proxy on loopback, the one byte counter of bench/peers.ts:
 * every system's client connects to it instead of its server, and it counts
 * the TCP payload bytes each way (what the socket carries: HTTP headers,
 * WebSocket frames, MQTT packets, gzip and all; not the TCP/IP headers).
 * `up` is client → server, `down` server → client.
 */
export interface CountingProxy {
  port: number;
  readonly up: number;
  readonly down: number;
  /** Connections accepted since the last reset. */
  readonly connections: number;
  reset(): void;
  close(): Promise<void>;
}

export async function countingProxy(targetPort: number, host = '127.0.0.1'): Promise<CountingProxy> {
  let up = 0;
  let down = 0;
  let connections = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    client.setNoDelay(true);
    const upstream = net.connect({ host, port: targetPort, noDelay: true });
    open.add(client);
    open.add(upstream);
    client.on('data', (chunk: Buffer) => {
      up += chunk.length;
    });
    upstream.on('data', (chunk: Buffer) => {
      down += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    // A reset on one side resets the other; a close ends the other once what it holds is written.
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail);
    upstream.on('error', fail);
    client.on('close', () => {
      open.delete(client);
      upstream.end();
    });
    upstream.on('close', () => {
      open.delete(upstream);
      client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, 511, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get up() {
      return up;
    },
    get down() {
      return down;
    },
    get connections() {
      return connections;
    },
    reset() {
      up = 0;
      down = 0;
      connections = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
