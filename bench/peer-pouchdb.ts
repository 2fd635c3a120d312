import { createRequire } from 'node:module';
import { JsonLineChild, spawnNode } from './broker-child.js';
import type { Rec } from './peer-data.js';
import { countingProxy } from './peer-proxy.js';
import type { Deploy, Kind, PeerClient } from './peer-system.js';

/**
 * PouchDB in bench/peers.ts: express-pouchdb on LevelDB in its own process
 * (peer-server.ts), with or without its default gzip, and PouchDB clients on
 * the memory adapter (pouchdb-adapter-memory, memdown: in memory as
 * SimNvStore is). One database per kind on the server, as CouchDB
 * deployments give each user theirs. A session is a one-shot pull
 * replication, the edits made during it, then a one-shot push.
 */

/** What this file uses of a PouchDB database. */
interface PouchDoc {
  _id: string;
  _rev?: string;
  vcard?: string;
  _attachments?: Record<string, { content_type: string; data: Buffer }>;
}
interface Replication {
  ok: boolean;
  docs_written: number;
  doc_write_failures: number;
}
interface PouchDatabase {
  bulkDocs(docs: PouchDoc[]): Promise<{ id: string; rev?: string; error?: string }[]>;
  allDocs(options: { keys: string[] }): Promise<{ rows: { key: string; value?: { rev: string } }[] }>;
  get(id: string, options?: { attachments?: boolean; binary?: boolean }): Promise<PouchDoc>;
  info(): Promise<{ doc_count: number }>;
  replicate: {
    from(other: PouchDatabase, options: Record<string, unknown>): Promise<Replication>;
    to(other: PouchDatabase, options: Record<string, unknown>): Promise<Replication>;
  };
  close(): Promise<void>;
  destroy(): Promise<void>;
}
interface PouchStatic {
  new (name: string, options?: Record<string, unknown>): PouchDatabase;
  plugin(plugin: unknown): PouchStatic;
}

const require = createRequire(import.meta.url);
let Pouch: PouchStatic | undefined;

function pouch(): PouchStatic {
  if (Pouch === undefined) {
    Pouch = require('pouchdb') as PouchStatic;
    Pouch.plugin(require('pouchdb-adapter-memory'));
  }
  return Pouch;
}

/**
 * Replication settings: PouchDB's defaults (batch_size 100, batches_limit
 * 10) for contacts; for photos a smaller batch, as the replicate() docs
 * advise when attachments are large (10 photos of 1 MB, ~13 MB of base64 JSON
 * per request, instead of ~130 MB).
 */
export const REPLICATION: Record<Kind, Record<string, unknown>> = {
  contacts: {},
  photos: { batch_size: 10 },
};

const ATTACHMENT = 'photo.jpg';
let instances = 0;

class PouchClient implements PeerClient {
  readonly #decoder = new TextDecoder();

  constructor(private readonly dbs: Map<Kind, { local: PouchDatabase; remote: PouchDatabase }>) {}

  #db(kind: Kind): { local: PouchDatabase; remote: PouchDatabase } {
    const db = this.dbs.get(kind);
    if (db === undefined) throw new Error(`pouchdb: no ${kind} database`);
    return db;
  }

  async edit(kind: Kind, records: readonly Rec[]): Promise<void> {
    const { local } = this.#db(kind);
    // The current revision of each record, as an edit must name it.
    const { rows } = await local.allDocs({ keys: records.map((r) => r.id) });
    const revs = new Map(rows.map((row) => [row.key, row.value?.rev]));
    const docs = records.map((r): PouchDoc => {
      const rev = revs.get(r.id);
      const base = rev === undefined ? { _id: r.id } : { _id: r.id, _rev: rev };
      return kind === 'contacts'
        ? { ...base, vcard: this.#decoder.decode(r.body) }
        : {
            ...base,
            _attachments: {
              [ATTACHMENT]: {
                content_type: 'image/jpeg',
                data: Buffer.from(r.body.buffer, r.body.byteOffset, r.body.length),
              },
            },
          };
    });
    const results = await local.bulkDocs(docs);
    const failed = results.find((r) => r.error !== undefined);
    if (failed) throw new Error(`pouchdb: edit of ${failed.id} failed: ${failed.error}`);
  }

  async session(during?: () => Promise<void>): Promise<void> {
    for (const [kind, { local, remote }] of this.dbs)
      check(await local.replicate.from(remote, REPLICATION[kind]));
    if (during) await during();
    for (const [kind, { local, remote }] of this.dbs)
      check(await local.replicate.to(remote, REPLICATION[kind]));
  }

  async count(kind: Kind): Promise<number> {
    return (await this.#db(kind).local.info()).doc_count;
  }

  async get(kind: Kind, id: string): Promise<Uint8Array | undefined> {
    const { local } = this.#db(kind);
    try {
      if (kind === 'contacts') return new TextEncoder().encode((await local.get(id)).vcard);
      const doc = await local.get(id, { attachments: true, binary: true });
      const data = doc._attachments?.[ATTACHMENT]?.data;
      return data === undefined ? undefined : new Uint8Array(data);
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    for (const { local, remote } of this.dbs.values()) {
      await remote.close();
      await local.destroy();
    }
  }
}

function check(result: Replication): void {
  if (!result.ok || result.doc_write_failures > 0)
    throw new Error(`pouchdb replication: ok ${result.ok}, ${result.doc_write_failures} write failures`);
}

/** express-pouchdb with its default gzip (`gzip`) or without it (`plain`). */
export function deployPouchDB(compression: 'gzip' | 'plain'): Deploy {
  return async (o) => {
    const rpc = new JsonLineChild(spawnNode('peer-server.ts', ['pouchdb', o.dir, compression]), o.timeoutMs);
    const hello = await rpc.hello;
    const proxy = await countingProxy(Number(hello.port));
    const PouchDB = pouch();
    const clients: PouchClient[] = [];
    const instance = ++instances;
    return {
      pid: Number(hello.pid),
      proxy,
      client: async (name) => {
        const dbs = new Map<Kind, { local: PouchDatabase; remote: PouchDatabase }>();
        for (const kind of o.kinds) {
          dbs.set(kind, {
            local: new PouchDB(`peers-${instance}-${name}-${kind}`, { adapter: 'memory' }),
            remote: new PouchDB(`http://127.0.0.1:${proxy.port}/${kind}`),
          });
        }
        const client = new PouchClient(dbs);
        clients.push(client);
        return client;
      },
      close: async () => {
        for (const c of clients) await c.close().catch(() => {});
        await proxy.close();
        await rpc.close();
      },
    };
  };
}
