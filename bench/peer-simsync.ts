import path from 'node:path';
import type { Category, SyncReport } from '../core/index.js';
import { SystemClock } from '../hal-linux/index.js';
import { spawnBroker } from './broker-child.js';
import { type BenchTerminal, imsi, shopTerminal } from './fixtures.js';
import type { Rec } from './peer-data.js';
import { countingProxy } from './peer-proxy.js';
import type { Deploy, Kind, PeerClient } from './peer-system.js';

/**
 * simsync in bench/peers.ts: the real sync server (broker-process.ts, SQLite
 * file store: WAL, synchronous = FULL) and real Terminal engines, each
 * shop-registered (FIG. 19) with a virtual SIM, a SimNvStore and a TCP link to
 * the counting proxy. A session is SIM in → mount sync → SIM out → demount
 * (upload, link closed).
 */
const CATEGORY: Record<Kind, Category> = { contacts: 'contacts', photos: 'archive' };

function check(what: string, report: SyncReport | undefined): void {
  if (report === undefined) throw new Error(`simsync ${what}: no sync`);
  if (!report.complete || report.setAside.length > 0 || report.conflicts.length > 0)
    throw new Error(
      `simsync ${what}: complete ${report.complete}, ${report.setAside.length} set aside, ${report.conflicts.length} conflicts`,
    );
}

class SimsyncClient implements PeerClient {
  #mounted = false;

  constructor(private readonly t: BenchTerminal) {}

  async edit(kind: Kind, records: readonly Rec[]): Promise<void> {
    // The user's edits are made with the SIM in (Terminal's edit checks); in a session it is in already.
    if (this.#mounted) return this.#write(kind, records);
    this.t.reader.insert(this.t.card);
    try {
      await this.#write(kind, records);
    } finally {
      this.t.reader.remove();
    }
  }

  async #write(kind: Kind, records: readonly Rec[]): Promise<void> {
    const data = await this.t.terminal.personalData('write');
    for (const r of records) await data.edit(CATEGORY[kind], r.id, r.body);
  }

  async session(during?: () => Promise<void>): Promise<void> {
    this.t.reader.insert(this.t.card);
    check('mount', await this.t.terminal.mount());
    this.#mounted = true;
    try {
      if (during) await during();
    } finally {
      this.#mounted = false;
      this.t.reader.remove();
    }
    check('demount', await this.t.terminal.demount());
  }

  async count(kind: Kind): Promise<number> {
    return (await this.t.terminal.records.list(CATEGORY[kind])).length;
  }

  async get(kind: Kind, id: string): Promise<Uint8Array | undefined> {
    return (await this.t.terminal.records.get(CATEGORY[kind], id))?.body ?? undefined;
  }

  async close(): Promise<void> {
    await this.t.terminal.stop();
  }
}

export const deploySimsync: Deploy = async (o) => {
  const broker = await spawnBroker('sync', { data: path.join(o.dir, 'simsync.db'), timeoutMs: o.timeoutMs });
  const proxy = await countingProxy(broker.port);
  const categories = o.kinds.map((k) => CATEGORY[k]);
  const codes = await broker.shop(imsi(0), o.clients, categories);
  const clock = new SystemClock();
  const clients: SimsyncClient[] = [];
  return {
    pid: broker.pid,
    proxy,
    client: async (name) => {
      const i = o.clients.indexOf(name);
      if (i < 0) throw new Error(`simsync: no shop code for ${name}`);
      const t = await shopTerminal({
        port: proxy.port,
        clock,
        terminalId: name,
        subscriber: 0,
        code: codes[i] as string,
        categories,
        timeoutMs: o.timeoutMs,
      });
      const client = new SimsyncClient(t);
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const c of clients) await c.close().catch(() => {});
      await proxy.close();
      await broker.close();
    },
  };
};
