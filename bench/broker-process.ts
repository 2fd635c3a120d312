import net from 'node:net';
import { Aedes } from 'aedes';
import { openSqliteStore, type SyncServer, startSyncServer } from '../broker/index.js';
import { CATEGORIES, type Category } from '../core/index.js';
import { serveCommands } from './child-commands.js';

/**
 * A broker in a process of its own, so that a bench can measure its CPU and
 * memory apart from the clients driving it (spawned by broker-child.ts):
 *
 *   node --import tsx bench/broker-process.ts sync <sqlite file | :memory:>
 *   node --import tsx bench/broker-process.ts plain
 *   node --import tsx bench/broker-process.ts raw
 *
 * `sync` is the real sync server (broker/) on a SQLite store; `plain` is an
 * unmodified Aedes, the baseline of message throughput; `raw` a bare TCP
 * server that, asked for n bytes (8 bytes big-endian), writes n bytes and
 * closes: the baseline of bulk transfer. Once listening it prints one JSON line
 * `{"port":…}` on stdout, then answers JSON-line commands read from stdin,
 * one JSON line each, matched by `id`.
 */
type Command =
  | { id: number; op: 'stats' }
  | { id: number; op: 'shop'; subscriber: string; terminals: string[]; categories: string[] }
  | { id: number; op: 'close' };

const [mode, data = ':memory:'] = process.argv.slice(2);
if (mode !== 'sync' && mode !== 'plain' && mode !== 'raw') {
  console.error('usage: broker-process.ts <sync [sqlite file]|plain|raw>');
  process.exit(2);
}

function stats(): Record<string, number> {
  // A collection first (when --expose-gc): RSS then counts live memory, not garbage not yet collected.
  (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return { cpuUs: cpu.user + cpu.system, rss: memory.rss, heapUsed: memory.heapUsed };
}

async function startPlain(): Promise<{ port: number; close: () => Promise<void> }> {
  const broker = await Aedes.createBroker();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 511, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      server.close();
    },
  };
}

async function startRaw(): Promise<{ port: number; close: () => Promise<void> }> {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.once('readable', function write() {
      const header = socket.read(8) as Buffer | null;
      if (header === null) return socket.once('readable', write);
      let left = Number(header.readBigUInt64BE(0));
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
            return socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startSync(): Promise<{ port: number; server: SyncServer; close: () => Promise<void> }> {
  const store = openSqliteStore(data);
  const server = await startSyncServer({ store, host: '127.0.0.1', port: 0 });
  return {
    port: server.port as number,
    server,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

async function shop(server: SyncServer, command: Extract<Command, { op: 'shop' }>): Promise<string[]> {
  const categories = command.categories.filter((c): c is Category => CATEGORIES.includes(c as Category));
  await server.admin.addSubscriber({ subscriber: command.subscriber });
  const codes: string[] = [];
  for (const terminalId of command.terminals) {
    const issued = await server.admin.registerShop({
      terminalId,
      subscriber: command.subscriber,
      categories,
    });
    codes.push(issued.code);
  }
  return codes;
}

const running =
  mode === 'sync'
    ? await startSync()
    : { ...(await (mode === 'plain' ? startPlain() : startRaw())), server: undefined };

serveCommands<Command>({ port: running.port, pid: process.pid }, async (command) => {
  switch (command.op) {
    case 'stats':
      return stats();
    case 'shop':
      if (running.server === undefined) throw new Error('shop registration needs the sync server');
      return { codes: await shop(running.server, command) };
    case 'close':
      await running.close();
      return {};
  }
});
