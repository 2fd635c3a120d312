/**
 * Local servers for the link tests: the server end of each connection is
 * presented as a ByteStream (`b` of the ByteStream contract), and a
 * self-signed certificate made by openssl stands in for a real CA.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import type { ByteStream } from '../../hal/index.js';
import type { Pem } from '../../test/support/self-signed.js';
import { socketStream } from '../tcp-link.js';
import { websocketStream } from '../ws-link.js';

export interface LocalServer {
  port: number;
  /** The server end of the next connection, once it is accepted. */
  nextStream: () => Promise<ByteStream>;
  close: () => Promise<void>;
}

type Accept = (stream: ByteStream) => void;

function acceptQueue(): { push: Accept; next: () => Promise<ByteStream> } {
  const ready: ByteStream[] = [];
  const waiting: Accept[] = [];
  return {
    push: (stream) => {
      const waiter = waiting.shift();
      if (waiter) waiter(stream);
      else ready.push(stream);
    },
    next: () => {
      const stream = ready.shift();
      return stream ? Promise.resolve(stream) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Listens on `port` of 127.0.0.1 (0: any free one); resolves with the port. */
async function listen(server: net.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

/** A TCP server, or a TLS one when `pem` is given (`requestCert` asks for a client certificate). */
export async function socketServer(
  pem?: Pem & { clientCa?: string; requestCert?: boolean },
  atPort = 0,
): Promise<LocalServer & { server: net.Server }> {
  const queue = acceptQueue();
  const server = pem
    ? tls.createServer(
        {
          ...pem,
          ...(pem.requestCert ? { requestCert: true, rejectUnauthorized: true, ca: pem.clientCa } : {}),
        },
        (socket) => queue.push(socketStream(socket)),
      )
    : net.createServer({ noDelay: true }, (socket) => queue.push(socketStream(socket)));
  const sockets = new Set<net.Socket>();
  server.on(pem ? 'secureConnection' : 'connection', (s: net.Socket) => sockets.add(s));
  const port = await listen(server, atPort);
  return {
    server,
    port,
    nextStream: queue.next,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A WebSocket server speaking the 'mqtt' subprotocol on `path`, over TLS when `pem` is given. */
export async function wsServer(pem?: Pem, wsPath = '/mqtt', atPort = 0): Promise<LocalServer> {
  const queue = acceptQueue();
  const web = pem ? https.createServer(pem) : http.createServer();
  const wss = new WebSocketServer({
    server: web,
    path: wsPath,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (ws) => queue.push(websocketStream(ws)));
  const port = await listen(web, atPort);
  return {
    port,
    nextStream: queue.next,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => web.close(resolve));
    },
  };
}
