import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type net from 'node:net';
import path from 'node:path';
import { Repo } from '@automerge/automerge-repo';
import { NodeWSServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import { WebSocketServer } from 'ws';
import { serveCommands } from './child-commands.js';

/**
 * The peers' servers of bench/peers.ts, each in a process of its own as the
 * sync server is (broker-process.ts), set up as their documentation sets
 * them up for production:
 *
 *   node --import tsx bench/peer-server.ts pouchdb <dir> gzip|plain
 *   node --import tsx bench/peer-server.ts automerge <dir>
 *
 * `pouchdb`: express-pouchdb (the CouchDB HTTP API of pouchdb-server) over
 * PouchDB's Node default adapter, LevelDB (leveldown) in `dir`; `gzip` keeps
 * its default `compression` middleware, `plain` excludes it
 * (`overrideMode.exclude`). `automerge`: the Automerge Repo sync server
 * (automerge-repo-sync-server's set-up: a WebSocket server adapter, the
 * Node filesystem storage adapter in `dir`, `sharePolicy` false: documents go
 * only to peers that ask for them by ID).
 *
 * Once listening it prints `{"port":…,"pid":…}` on stdout, then answers the
 * JSON-line commands `stats` and `close` as broker-process.ts does.
 */
type Command = { id: number; op: 'stats' } | { id: number; op: 'close' };

const [mode, dir, compression = 'gzip'] = process.argv.slice(2);
if ((mode !== 'pouchdb' && mode !== 'automerge') || dir === undefined) {
  console.error('usage: peer-server.ts <pouchdb <dir> gzip|plain | automerge <dir>>');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
// stdout carries the JSON lines; what the libraries log goes to stderr.
console.log = console.error;
console.info = console.error;

interface Running {
  port: number;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', 511, () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** The PouchDB constructor, as much of it as this file uses. */
interface PouchStatic {
  defaults(options: Record<string, unknown>): PouchStatic;
}
type ExpressPouchDB = (
  pouch: PouchStatic,
  options: { mode: string; overrideMode: { exclude: string[] }; configPath: string; logPath: string },
) => http.RequestListener;

async function startPouchDB(dir: string, gzip: boolean): Promise<Running> {
  const require = createRequire(import.meta.url);
  const PouchDB = require('pouchdb') as PouchStatic;
  const expressPouchDB = require('express-pouchdb') as ExpressPouchDB;
  const app = expressPouchDB(PouchDB.defaults({ prefix: `${dir}${path.sep}` }), {
    // The parts of the CouchDB API that PouchDB replication uses (no Fauxton, no _users, no log file).
    mode: 'minimumForPouchDB',
    overrideMode: { exclude: gzip ? [] : ['compression'] },
    configPath: path.join(dir, 'config.json'),
    logPath: path.join(dir, 'log.txt'),
  });
  const server = http.createServer(app);
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function startAutomerge(dir: string): Promise<Running> {
  const wss = new WebSocketServer({ noServer: true });
  const repo = new Repo({
    // The adapter's types name its own copy of ws; the server is the same class.
    network: [new NodeWSServerAdapter(wss as never)],
    storage: new NodeFSStorageAdapter(dir),
    peerId: 'storage-server-bench' as never,
    sharePolicy: async () => false,
  });
  const server = http.createServer((_request, response) => {
    response.end('automerge-repo sync server\n');
  });
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  const port = await listen(server);
  return {
    port,
    close: async () => {
      await repo.flush();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function stats(): Record<string, number> {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return { cpuUs: cpu.user + cpu.system, rss: memory.rss, heapUsed: memory.heapUsed };
}

const running =
  mode === 'pouchdb' ? await startPouchDB(dir, compression !== 'plain') : await startAutomerge(dir);

serveCommands<Command>({ port: running.port, pid: process.pid }, async (command) => {
  if (command.op === 'stats') return stats();
  await running.close();
  return {};
});
