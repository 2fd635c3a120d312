import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Logger } from './logger.js';
import { guardConnection } from './packet-guard.js';

/** A PEM given as its content, or a string naming the file that holds it. */
export type Pem = string | Buffer;

export interface TlsOptions {
  key: Pem;
  cert: Pem;
  ca?: Pem;
  /** Default 8883; 0 = an ephemeral port. */
  port?: number;
}

export interface WsOptions {
  /** Default 8080; 0 = an ephemeral port. */
  port?: number;
}

function pem(value: Pem): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return value.trimStart().startsWith('-----BEGIN') ? Buffer.from(value) : readFileSync(value);
}

/** Something that accepts connections; `close` stops listening. */
export interface Listener {
  port: number;
  close(): Promise<void>;
}

type Handle = (conn: Duplex, req?: IncomingMessage) => void;

export interface ListenDeps {
  host: string | undefined;
  maxPacketBytes: number;
  logger: Logger;
  /** Aedes' `handle`. */
  handle: Handle;
}

const addresses = new WeakMap<object, string>();

/** The peer address a connection came from ('unknown' for one not accepted by a listener here). */
export function sourceAddress(conn: object): string {
  return addresses.get(conn) ?? 'unknown';
}

function guarded(deps: ListenDeps, transport: string): Handle {
  return (conn, req) => {
    const safe = guardConnection(conn, deps.maxPacketBytes, (reason) =>
      deps.logger.warn({ transport, reason }, 'connection closed: packet too large'),
    );
    const address = (conn as { remoteAddress?: string }).remoteAddress ?? req?.socket.remoteAddress;
    addresses.set(safe, address ?? 'unknown');
    deps.handle(safe, req);
  };
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** MQTT over TCP, Nagle off (DESIGN.md "Latency"). */
export async function listenTcp(deps: ListenDeps, port: number): Promise<Listener> {
  const handle = guarded(deps, 'tcp');
  const server = createTcpServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    handle(socket);
  });
  const bound = await listen(server, port, deps.host);
  return { port: bound, close: () => closeServer(server) };
}

/** MQTT over TLS. */
export async function listenTls(deps: ListenDeps, options: TlsOptions): Promise<Listener> {
  const handle = guarded(deps, 'tls');
  const server = createTlsServer(
    { key: pem(options.key), cert: pem(options.cert), ...(options.ca ? { ca: pem(options.ca) } : {}) },
    (socket) => {
      socket.setNoDelay(true);
      handle(socket);
    },
  );
  server.on('tlsClientError', (err) => deps.logger.info({ err: err.message }, 'TLS handshake failed'));
  const bound = await listen(server, options.port ?? 8883, deps.host);
  return { port: bound, close: () => closeServer(server) };
}

/** MQTT over WebSocket (subprotocol `mqtt`), one MQTT byte stream per socket. */
export async function listenWs(deps: ListenDeps, options: WsOptions): Promise<Listener> {
  const handle = guarded(deps, 'ws');
  const wss = new WebSocketServer({
    port: options.port ?? 8080,
    ...(deps.host ? { host: deps.host } : {}),
    maxPayload: deps.maxPacketBytes + 1024,
  });
  wss.on('connection', (ws, req) => {
    req.socket.setNoDelay(true);
    const stream = createWebSocketStream(ws);
    handle(stream, req);
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  const bound = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
