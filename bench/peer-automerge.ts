import * as A from '@automerge/automerge';
import {
  type AutomergeUrl,
  type Chunk,
  type DocHandle,
  decodeHeads,
  ImmutableString,
  type PeerId,
  parseAutomergeUrl,
  Repo,
  type StorageAdapterInterface,
  type StorageKey,
} from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { JsonLineChild, spawnNode } from './broker-child.js';
import type { Rec } from './peer-data.js';
import { countingProxy } from './peer-proxy.js';
import type { Deploy, Kind, PeerClient } from './peer-system.js';

/**
 * Automerge Repo in bench/peers.ts: its sync server in its own process
 * (peer-server.ts: WebSocket server adapter, Node filesystem storage) and
 * clients that each keep one Repo for the device's life, on an in-memory
 * storage adapter (as SimNvStore is; the server keeps each client's sync
 * state, as it does for any peer with storage), with a WebSocket client
 * adapter added for a session and removed after it.
 *
 * Contacts are one document holding a map (record ID → vCard): Automerge's
 * "Modeling Data" page puts the document at the unit of collaboration (here
 * one person's address book) and warns that syncing many thousands of
 * documents is costly. A vCard is an ImmutableString (replaced whole, as the
 * other systems replace a record) or, with `strings: 'text'`, collaborative
 * text edited with updateText. Photos are one document each ({ type, data:
 * bytes }), listed in an index document (photo ID → URL): a 200 MB document
 * would be one 200 MB sync message.
 *
 * A session ends once, for every document, the heads in the last sync
 * message the server sent in this session equal this client's own: the
 * server then holds everything here and this client everything there.
 */
interface Contacts {
  contacts: Record<string, ImmutableString | string>;
}
interface PhotoIndex {
  photos: Record<string, AutomergeUrl>;
}
interface PhotoDoc {
  type: string;
  data: Uint8Array;
}

export type AutomergeStrings = 'immutable' | 'text';

/** An in-memory StorageAdapterInterface: the client device's storage. */
class MemoryStorage implements StorageAdapterInterface {
  readonly #data = new Map<string, { key: StorageKey; data: Uint8Array }>();

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.#data.get(key.join('\0'))?.data;
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.#data.set(key.join('\0'), { key, data });
  }

  async remove(key: StorageKey): Promise<void> {
    this.#data.delete(key.join('\0'));
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    return [...this.#data.values()]
      .filter((e) => prefix.every((part, i) => e.key[i] === part))
      .map((e) => ({ key: e.key, data: e.data }));
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    for (const [id, e] of this.#data) if (prefix.every((part, i) => e.key[i] === part)) this.#data.delete(id);
  }
}

/**
 * The user's account: which documents are theirs (an app keeps these URLs in
 * its settings), and the heads of each in the last sync message the server
 * sent to any client (what the bench knows the server holds).
 */
interface Account {
  contacts?: AutomergeUrl;
  photos?: AutomergeUrl;
  serverHeads: Map<string, string[]>;
}

const SERVER = 'storage-server-bench' as PeerId;

function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h) => b.includes(h));
}

class AutomergeClient implements PeerClient {
  readonly #repo = new Repo({ storage: new MemoryStorage(), network: [] });
  readonly #waiters = new Set<() => void>();
  readonly #decoder = new TextDecoder();
  #adapter: WebSocketClientAdapter | undefined;
  /** Set when the server process has exited: every wait fails with it. */
  #failure: Error | undefined;

  constructor(
    private readonly url: string,
    private readonly account: Account,
    private readonly kinds: readonly Kind[],
    private readonly strings: AutomergeStrings,
    private readonly timeoutMs: number,
  ) {
    this.#repo.networkSubsystem.on('message', (message) => {
      if (message.senderId !== SERVER || (message.type !== 'sync' && message.type !== 'request')) return;
      this.account.serverHeads.set(message.documentId, A.decodeSyncMessage(message.data).heads);
      this.#wake();
    });
  }

  #wake(): void {
    // After the repo has applied the message (it does so after this listener).
    setImmediate(() => {
      for (const w of this.#waiters) w();
    });
  }

  /**
   * Until the heads the server last sent (to any client) for `handle` are
   * this client's: it then has what the server has, and the server what it
   * has. Automerge's sync protocol sends nothing when both sides are in step,
   * so a client cannot tell "in step" from "no answer yet" by itself; the
   * bench's record of the server's heads tells it.
   */
  #synced(handle: DocHandle<unknown>): Promise<void> {
    const done = () => {
      const theirs = this.account.serverHeads.get(handle.documentId);
      return theirs !== undefined && sameHeads(theirs, decodeHeads(handle.heads()));
    };
    if (this.#failure) return Promise.reject(this.#failure);
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#failure) {
          finish();
          reject(this.#failure);
          return;
        }
        if (!done()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        const theirs = this.account.serverHeads.get(handle.documentId);
        const ours = decodeHeads(handle.heads());
        reject(
          new Error(
            `automerge: ${handle.documentId} not synced in ${this.timeoutMs} ms (server's last heads: ${theirs === undefined ? 'none' : theirs.join(',') || '[]'}; ours: ${ours.join(',')})`,
          ),
        );
      }, this.timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        handle.off('heads-changed', check);
      };
      this.#waiters.add(check);
      handle.on('heads-changed', check);
    });
  }

  async #root<T>(kind: Kind, initial: T): Promise<DocHandle<T>> {
    const url = this.account[kind];
    if (url !== undefined) return this.#repo.find<T>(url);
    const handle = this.#repo.create<T>(initial);
    this.account[kind] = handle.url;
    return handle;
  }

  async edit(kind: Kind, records: readonly Rec[]): Promise<void> {
    if (kind === 'contacts') {
      const handle = await this.#root<Contacts>('contacts', { contacts: {} });
      handle.change((d) => {
        for (const r of records) {
          const text = this.#decoder.decode(r.body);
          if (this.strings === 'immutable') d.contacts[r.id] = new ImmutableString(text);
          else if (typeof d.contacts[r.id] === 'string') A.updateText(d, ['contacts', r.id], text);
          else d.contacts[r.id] = text;
        }
      });
      return;
    }
    const index = await this.#root<PhotoIndex>('photos', { photos: {} });
    const added: Record<string, AutomergeUrl> = {};
    for (const r of records) {
      const url = index.doc().photos[r.id];
      if (url !== undefined) {
        (await this.#repo.find<PhotoDoc>(url)).change((d) => {
          d.data = r.body;
        });
      } else {
        added[r.id] = this.#repo.create<PhotoDoc>({ type: 'image/jpeg', data: r.body }).url;
      }
    }
    index.change((d) => {
      for (const [id, url] of Object.entries(added)) d.photos[id] = url;
    });
  }

  /** The handles of every document of the user, fetched from the server when not here yet. */
  async #handles(): Promise<DocHandle<unknown>[]> {
    const handles: DocHandle<unknown>[] = [];
    if (this.kinds.includes('contacts') && this.account.contacts)
      handles.push(await this.#repo.find(this.account.contacts));
    if (this.kinds.includes('photos') && this.account.photos) {
      const index = await this.#repo.find<PhotoIndex>(this.account.photos);
      await this.#synced(index);
      handles.push(
        index,
        ...(await Promise.all(Object.values(index.doc().photos).map((u) => this.#repo.find(u)))),
      );
    }
    return handles;
  }

  async #allSynced(): Promise<void> {
    await Promise.all((await this.#handles()).map((h) => this.#synced(h)));
  }

  async session(during?: () => Promise<void>): Promise<void> {
    const adapter = new WebSocketClientAdapter(this.url);
    if (this.#failure) throw this.#failure;
    const connected = new Promise<void>((resolve, reject) => {
      const onPeer = ({ peerId }: { peerId: PeerId }) => {
        if (peerId !== SERVER) return;
        this.#waiters.delete(failed);
        this.#repo.networkSubsystem.off('peer', onPeer);
        resolve();
      };
      const failed = () => {
        if (this.#failure) reject(this.#failure);
      };
      this.#waiters.add(failed);
      this.#repo.networkSubsystem.on('peer', onPeer);
    });
    this.#adapter = adapter;
    this.#repo.networkSubsystem.addNetworkAdapter(adapter);
    try {
      await connected;
      await this.#allSynced();
      if (during) {
        await during();
        await this.#allSynced();
      }
    } finally {
      // fail() may have removed it already (a second disconnect asserts).
      if (this.#adapter === adapter) this.#repo.networkSubsystem.removeNetworkAdapter(adapter);
      this.#adapter = undefined;
    }
    await this.#repo.flush();
  }

  /** The handle of `url` when this client holds the document, without asking the network. */
  #held<T>(url: AutomergeUrl): DocHandle<T> | undefined {
    const handle = this.#repo.handles[parseAutomergeUrl(url).documentId] as DocHandle<T> | undefined;
    return handle?.isReady() ? handle : undefined;
  }

  async count(kind: Kind): Promise<number> {
    const url = this.account[kind];
    if (url === undefined) return 0;
    if (kind === 'contacts') {
      const doc = this.#held<Contacts>(url)?.doc();
      return doc === undefined ? 0 : Object.keys(doc.contacts).length;
    }
    const index = this.#held<PhotoIndex>(url)?.doc();
    if (index === undefined) return 0;
    return Object.values(index.photos).filter((u) => this.#held(u) !== undefined).length;
  }

  async get(kind: Kind, id: string): Promise<Uint8Array | undefined> {
    const url = this.account[kind];
    if (url === undefined) return undefined;
    if (kind === 'contacts') {
      const value = (await this.#repo.find<Contacts>(url)).doc().contacts[id];
      return value === undefined ? undefined : new TextEncoder().encode(value.toString());
    }
    const photo = (await this.#repo.find<PhotoIndex>(url)).doc().photos[id];
    return photo === undefined ? undefined : (await this.#repo.find<PhotoDoc>(photo)).doc().data;
  }

  /** The server is gone: stop reconnecting and fail what waits on it. */
  fail(error: Error): void {
    this.#failure = error;
    if (this.#adapter) this.#repo.networkSubsystem.removeNetworkAdapter(this.#adapter);
    this.#adapter = undefined;
    for (const w of this.#waiters) w();
  }

  async close(): Promise<void> {
    if (this.#adapter) this.#repo.networkSubsystem.removeNetworkAdapter(this.#adapter);
    await this.#repo.shutdown();
  }
}

/** The last line of a Node error report that names the error (`TimeoutError: …`). */
function lastError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /^\w*Error\b|^error /i.test(l.trim()));
  return (lines.at(-1) ?? stderr.trim().split('\n').at(-1) ?? '').trim();
}

export function deployAutomerge(strings: AutomergeStrings = 'immutable'): Deploy {
  return async (o) => {
    const rpc = new JsonLineChild(spawnNode('peer-server.ts', ['automerge', o.dir]), o.timeoutMs);
    const hello = await rpc.hello;
    const proxy = await countingProxy(Number(hello.port));
    const account: Account = { serverHeads: new Map() };
    const clients: AutomergeClient[] = [];
    // The sync server can die under load (an unhandled time-out of a document handle): say why, close
    // the proxy at once (the client adapter retries a refused connection quietly, but throws on a reset
    // one) and fail the clients' waits instead of letting them run to their time-outs.
    let stderr = '';
    rpc.child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    rpc.child.once('exit', (code, signal) => {
      void proxy.close();
      const error = new Error(`automerge sync server exited (${code ?? signal}): ${lastError(stderr)}`);
      for (const c of clients) c.fail(error);
    });
    return {
      pid: Number(hello.pid),
      proxy,
      client: async () => {
        const client = new AutomergeClient(
          `ws://127.0.0.1:${proxy.port}`,
          account,
          o.kinds,
          strings,
          o.timeoutMs,
        );
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
