import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Logger } from './logger.js';
import { guardConnection } from './packet-guard.js';
import { type ProxyHeader, parseProxyHeader } from './proxy-protocol.js';

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
  /**
   * Plain TCP connections come through a load balancer that opens each with a
   * PROXY protocol header (proxy-protocol.ts), which names the terminal's
   * address. Then every one must have it.
   */
  proxyProtocol?: boolean;
  logger: Logger;
  /** Aedes' `handle`. */
  handle: Handle;
}

const addresses = new WeakMap<object, string>();

/** The peer address a connection came from ('unknown' for one not accepted by a listener here). */
export function sourceAddress(conn: object): string {
  return addresses.get(conn) ?? 'unknown';
}

/** How a connection reached the server: the transport, and the peer address it came from. */
export interface Arrival {
  /**
   * 'memory' is a byte stream opened in this process (an in-memory pipe in
   * tests and simulations), guarded like plain TCP.
   */
  transport: 'tcp' | 'tls' | 'ws' | 'memory';
  /** The peer address; a PROXY header, when required, names the real one. */
  remoteAddress: string | undefined;
  /** The HTTP upgrade request of a WebSocket connection. */
  req?: IncomingMessage;
}

/**
 * Hands an accepted connection to Aedes through the guards every transport
 * shares: the PROXY header first when `proxyProtocol` is set (plain streams
 * only: before TLS or an HTTP upgrade the header sits on the raw socket, out
 * of reach here; terminate TLS at the balancer instead), then the packet-size
 * guard, with the source address recorded for `sourceAddress` (attempt limits,
 * the log).
 */
export function acceptStream(deps: ListenDeps, conn: Duplex, arrival: Arrival): void {
  const { transport, remoteAddress: peer, req } = arrival;
  const accept = (address: string | undefined) => {
    const safe = guardConnection(conn, deps.maxPacketBytes, (reason) =>
      deps.logger.warn({ transport, reason }, 'connection closed: packet too large'),
    );
    addresses.set(safe, address ?? 'unknown');
    deps.handle(safe, req);
  };
  const plain = transport === 'tcp' || transport === 'memory';
  if (!deps.proxyProtocol || !plain) {
    accept(peer);
    return;
  }
  readProxyHeader(conn, (outcome) => {
    if (outcome.kind === 'invalid') {
      deps.logger.warn({ transport, peer, reason: outcome.reason }, 'connection closed: no PROXY header');
      conn.destroy();
      return;
    }
    if (outcome.rest.length > 0) conn.unshift(outcome.rest);
    accept(outcome.kind === 'proxied' ? outcome.sourceAddress : peer);
  });
}

/** How long a connection may take to send its PROXY header. */
const PROXY_HEADER_MS = 5000;

/** Reads the PROXY header off the start of a connection, then hands the rest back. */
function readProxyHeader(
  conn: Duplex,
  done: (outcome: (ProxyHeader & { rest: Buffer }) | { kind: 'invalid'; reason: string }) => void,
): void {
  let seen = Buffer.alloc(0);
  const finish = (outcome: Parameters<typeof done>[0]) => {
    clearTimeout(timer);
    conn.off('data', onData);
    conn.off('end', onEnd);
    conn.pause();
    done(outcome);
  };
  const timer = setTimeout(() => finish({ kind: 'invalid', reason: 'no header in time' }), PROXY_HEADER_MS);
  const onEnd = () => finish({ kind: 'invalid', reason: 'closed before the header' });
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const parsed = parseProxyHeader(seen);
    if (parsed.kind === 'incomplete') return;
    if (parsed.kind === 'invalid') return finish(parsed);
    finish({ ...parsed, rest: seen.subarray(parsed.headerBytes) });
  };
  conn.on('data', onData);
  conn.once('end', onEnd);
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
  const server = createTcpServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    acceptStream(deps, socket, { transport: 'tcp', remoteAddress: socket.remoteAddress });
  });
  const bound = await listen(server, port, deps.host);
  return { port: bound, close: () => closeServer(server) };
}

/** MQTT over TLS. */
export async function listenTls(deps: ListenDeps, options: TlsOptions): Promise<Listener> {
  const server = createTlsServer(
    { key: pem(options.key), cert: pem(options.cert), ...(options.ca ? { ca: pem(options.ca) } : {}) },
    (socket) => {
      socket.setNoDelay(true);
      acceptStream(deps, socket, { transport: 'tls', remoteAddress: socket.remoteAddress });
    },
  );
  server.on('tlsClientError', (err) => deps.logger.info({ err: err.message }, 'TLS handshake failed'));
  const bound = await listen(server, options.port ?? 8883, deps.host);
  return { port: bound, close: () => closeServer(server) };
}

/** MQTT over WebSocket (subprotocol `mqtt`), one MQTT byte stream per socket. */
export async function listenWs(deps: ListenDeps, options: WsOptions): Promise<Listener> {
  const wss = new WebSocketServer({
    port: options.port ?? 8080,
    ...(deps.host ? { host: deps.host } : {}),
    maxPayload: deps.maxPacketBytes + 1024,
  });
  wss.on('connection', (ws, req) => {
    req.socket.setNoDelay(true);
    const stream = createWebSocketStream(ws);
    acceptStream(deps, stream, { transport: 'ws', remoteAddress: req.socket.remoteAddress, req });
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
