import type { FetchRequest, SubstanceReply } from '../../core/protocol/index.js';
import type { SyncStore, TerminalRow } from '../store/sync-store.js';

export type FetchOutcome =
  | { kind: 'part'; substance: Omit<SubstanceReply, 'type' | 'req'> }
  | { kind: 'gone'; reason: string };

/**
 * [0094]: a byte range of a stubbed record's substance. Only the version the
 * stub named is served, so a fetch resumed after a link drop never splices
 * two versions together; a newer version answers 'gone'. A body larger than
 * the range asked for is read whole once and kept (SubstanceCache) for the
 * chunks that follow it.
 */
export async function fetchSubstance(
  store: SyncStore,
  terminal: TerminalRow,
  request: FetchRequest,
  maxBytes: number,
  cache?: SubstanceCache,
): Promise<FetchOutcome> {
  if (!terminal.categories.includes(request.category)) {
    return { kind: 'gone', reason: `category ${request.category} is not synced by this terminal` };
  }
  const length = Math.min(request.length, maxBytes);
  const part =
    (await cache?.range(store, request, length)) ?? (await readRange(store, request, length, cache));
  if (part === undefined || part.seq !== request.seq) {
    return { kind: 'gone', reason: `version ${request.seq} of ${request.id} is no longer current` };
  }
  const offset = Math.min(request.offset, part.size);
  return { kind: 'part', substance: { seq: part.seq, offset, size: part.size, bytes: part.bytes } };
}

interface Part {
  seq: number;
  size: number;
  bytes: Uint8Array;
}

/** Reads only the range; a body longer than it is then read whole into the cache, for the chunks after it. */
async function readRange(
  store: SyncStore,
  request: FetchRequest,
  length: number,
  cache: SubstanceCache | undefined,
): Promise<Part | undefined> {
  const { subscriber, category, id, offset } = request;
  const part = await store.getBodyRange(subscriber, category, id, offset, length);
  if (cache === undefined || part === undefined || part.seq !== request.seq) return part;
  if (offset + part.bytes.length >= part.size || part.size > cache.maxBodyBytes) return part;
  // Read before the body, the subscriber's latest sequence can only be older than the
  // body's: a change made between the two reads is never hidden, only re-read.
  const latest = await store.latestSeq(subscriber);
  const record = await store.getRecord(subscriber, category, id);
  if (record?.body != null && record.seq === part.seq)
    cache.keep(request, { seq: record.seq, latest, body: record.body });
  return part;
}

function slice(body: Uint8Array, offset: number, length: number): Uint8Array {
  const from = Math.min(Math.max(0, offset), body.length);
  return body.subarray(from, Math.min(body.length, from + Math.max(0, length)));
}

interface Held {
  seq: number;
  /** The subscriber's latest sequence when the body was read: while it stands, no record changed. */
  latest: number;
  body: Uint8Array;
}

/**
 * Bodies being fetched in chunks (issue 20). A store cannot always read a
 * range of a body without reading all of it (SQLite's substr() loads the
 * whole blob), which made every 64 KiB chunk of a 1 MB photo a 1 MB read.
 * Kept here, a body is read once per fetch; each chunk then costs one read
 * of the subscriber's latest sequence number, which moves with every change
 * of any of its records (SyncStore.putRecord), on every broker process
 * sharing the store. Bounded in bytes, least recently used evicted first.
 */
export class SubstanceCache {
  private readonly held = new Map<string, Held>();
  private bytes = 0;

  constructor(
    /** All bodies held at once, at most. */
    readonly maxBytes = 64 * 1024 * 1024,
    /** A body larger than this is never held (it is read range by range). */
    readonly maxBodyBytes = 16 * 1024 * 1024,
  ) {}

  /** The range from a body held for this version, if it still stands; undefined otherwise. */
  async range(store: SyncStore, request: FetchRequest, length: number): Promise<Part | undefined> {
    const key = keyOf(request);
    const held = this.held.get(key);
    if (held === undefined || held.seq !== request.seq) return undefined;
    if ((await store.latestSeq(request.subscriber)) !== held.latest) {
      this.drop(key);
      return undefined;
    }
    // Most recently used last.
    this.held.delete(key);
    this.held.set(key, held);
    if (request.offset + length >= held.body.length) this.drop(key);
    return { seq: held.seq, size: held.body.length, bytes: slice(held.body, request.offset, length) };
  }

  keep(request: FetchRequest, held: Held): void {
    if (held.body.length > this.maxBodyBytes || held.body.length > this.maxBytes) return;
    const key = keyOf(request);
    this.drop(key);
    this.held.set(key, held);
    this.bytes += held.body.length;
    for (const [oldest] of this.held) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest);
    }
  }

  get size(): { bodies: number; bytes: number } {
    return { bodies: this.held.size, bytes: this.bytes };
  }

  private drop(key: string): void {
    const held = this.held.get(key);
    if (held === undefined) return;
    this.held.delete(key);
    this.bytes -= held.body.length;
  }
}

function keyOf(request: FetchRequest): string {
  return JSON.stringify([request.subscriber, request.category, request.id]);
}

const caches = new WeakMap<object, SubstanceCache>();

/** The cache of one server, found through an object only that server holds (its Sessions). */
export function substanceCacheOf(server: object): SubstanceCache {
  let cache = caches.get(server);
  if (!cache) {
    cache = new SubstanceCache();
    caches.set(server, cache);
  }
  return cache;
}
