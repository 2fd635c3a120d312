import { bytesEqual } from '../bytes.js';
import { SyncError } from '../errors.js';
import type { ServerSession } from '../net/server-session.js';
import type { Category } from '../protocol/index.js';
import type { FetchProgress, PartialFetches } from '../store/partial-fetches.js';
import type { LocalRecord, RecordStore } from '../store/record-store.js';
import type { Budget } from './budget.js';

/** Bytes asked for in one fetch by default: few round trips, well under the 4 MiB message limit. */
export const SUBSTANCE_CHUNK_BYTES = 1024 * 1024;

/**
 * Fetches asked for before the first of them is answered (issue 20): the
 * server has the next request in hand when it sends a reply, so a chunk
 * costs no round trip of its own.
 */
export const FETCH_WINDOW = 4;

/**
 * Chunks received are kept in memory and committed to NV together once
 * this many bytes are waiting (and whenever the fetch stops short: a link
 * drop, a budget spent). A power cut costs at most this much fetched again;
 * a body this size or smaller that comes whole never touches the partial
 * store (it goes to the record in one write).
 */
export const FETCH_COMMIT_BYTES = 1024 * 1024;

export interface FetchContext {
  session: ServerSession;
  store: RecordStore;
  partial: PartialFetches;
  subscriberId: string;
  chunkBytes: number;
  /**
   * [0085]: a fetch made by a sync stays within the sync's download limits
   * and counts in them; absent (a user opening a record), none apply.
   */
  budget?: Budget;
  /** Fetches in flight at once (default FETCH_WINDOW). */
  window?: number;
  /** Bytes received before they are committed to NV (default FETCH_COMMIT_BYTES). */
  commitBytes?: number;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * [0094]: fetches the substance of a stub in chunks, several in flight, the
 * chunks kept in NV as they gather, so a fetch cut by a link drop (or a
 * power cut) resumes from the last chunk kept. The whole is checked against
 * the stub's SHA-256 before it replaces the stub; a mismatch keeps nothing.
 * Resolves the record with its body, or, when `budget` ran out first, still
 * a stub, what came so far kept for the next try.
 */
export async function fetchSubstance(
  ctx: FetchContext,
  category: Category,
  id: string,
): Promise<LocalRecord> {
  const record = await ctx.store.get(category, id);
  if (record === undefined) throw new SyncError('protocol', `no record ${category}/${id} on this terminal`);
  const stub = record.stub;
  if (stub === undefined) return record;
  let progress = await ctx.partial.progress(category, id);
  if (progress !== undefined && (progress.seq !== record.base || !bytesEqual(progress.hash, stub.hash))) {
    // A newer version replaced the stub: what came of the old one is useless.
    await ctx.partial.discard(category, id);
    progress = undefined;
  }
  progress ??= { seq: record.base, size: stub.size, hash: stub.hash, got: 0 };
  const body = await new Receiver(ctx, category, id, progress).receive();
  if (body === undefined) return record;
  const forget = await ctx.partial.forget(category, id);
  if (body.length !== stub.size || !bytesEqual(await sha256(body), stub.hash)) {
    await ctx.partial.discard(category, id);
    throw new SyncError('protocol', `substance of ${category}/${id} does not match its hash`);
  }
  const installed = await ctx.store.installSubstance(category, id, progress.seq, body, forget);
  return installed ?? (await ctx.store.get(category, id)) ?? record;
}

interface InFlight {
  offset: number;
  length: number;
  reply: Promise<Uint8Array>;
}

/**
 * One fetch of a substance: the requests in flight (at most the window, and
 * never more bytes than the budget allows), and the bytes received into the
 * body as they come, each chunk copied once. `kept` bytes are in NV; those
 * between `kept` and `got` are in memory only, committed in one NV commit.
 */
class Receiver {
  private readonly body: Uint8Array;
  private readonly inFlight: InFlight[] = [];
  /** The next offset to ask for. */
  private next: number;
  /** Bytes received, in order, from 0. */
  private got: number;
  private kept: FetchProgress;

  constructor(
    private readonly ctx: FetchContext,
    private readonly category: Category,
    private readonly id: string,
    from: FetchProgress,
  ) {
    this.body = new Uint8Array(from.size);
    this.kept = from;
    this.next = from.got;
    this.got = from.got;
  }

  /** The whole substance; undefined when the budget stopped it (what came kept in NV). */
  async receive(): Promise<Uint8Array | undefined> {
    if (this.kept.got > 0) this.body.set(await this.ctx.partial.assemble(this.category, this.id));
    try {
      while (this.got < this.body.length) {
        this.fill();
        const head = this.inFlight.shift();
        if (head === undefined) {
          // The budget left nothing to ask for: keep what came for the next try.
          await this.keep();
          return undefined;
        }
        const bytes = await head.reply;
        // One chunk holds it all: nothing to resume, so it goes straight to the record (not copied).
        if (bytes.length === this.body.length) return bytes;
        this.take(head, bytes);
        if (this.got - this.kept.got >= (this.ctx.commitBytes ?? FETCH_COMMIT_BYTES)) await this.keep();
      }
    } catch (e) {
      await this.stopped(e);
      throw e;
    }
    return this.body;
  }

  /** Asks for chunks until the window is full, the body is asked for, or the budget is spent. */
  private fill(): void {
    const window = Math.max(1, this.ctx.window ?? FETCH_WINDOW);
    while (this.inFlight.length < window && this.next < this.body.length) {
      const length = this.nextLength();
      if (length === 0) return;
      const offset = this.next;
      const reply = fetchChunk(this.ctx, this.category, this.id, this.kept, offset, length);
      // Rejections are handled when the chunk's turn comes, or in `stopped`.
      reply.catch(() => undefined);
      this.inFlight.push({ offset, length, reply });
      this.next += length;
    }
  }

  /** The next chunk's length: a chunk, the rest, or what the sync's download limits leave ([0085]). */
  private nextLength(): number {
    const { budget, chunkBytes } = this.ctx;
    const asked = this.inFlight.reduce((n, f) => n + f.length, 0);
    const allowance = budget === undefined ? Number.POSITIVE_INFINITY : budget.downAllowance() - asked;
    return Math.max(0, Math.min(chunkBytes, this.body.length - this.next, Math.floor(allowance)));
  }

  private take(chunk: InFlight, bytes: Uint8Array): void {
    if (bytes.length < chunk.length) {
      // A short answer (the server's message limit): the rest of the chunk is asked for next.
      const offset = chunk.offset + bytes.length;
      const length = chunk.length - bytes.length;
      const reply = fetchChunk(this.ctx, this.category, this.id, this.kept, offset, length);
      reply.catch(() => undefined);
      this.inFlight.unshift({ offset, length, reply });
    }
    this.body.set(bytes, chunk.offset);
    this.got = chunk.offset + bytes.length;
  }

  /** Commits the bytes received since the last commit, in one NV commit with the progress counting them. */
  private async keep(): Promise<void> {
    if (this.got === this.kept.got) return;
    this.kept = await this.ctx.partial.save(
      this.category,
      this.id,
      this.kept,
      this.body.subarray(this.kept.got, this.got),
    );
  }

  /** A failed fetch keeps what came before the failure (unless the failure was of NV itself). */
  private async stopped(error: unknown): Promise<void> {
    this.inFlight.splice(0);
    if (error instanceof SyncError && error.code === 'gone') return;
    await this.keep().catch(() => undefined);
  }
}

async function fetchChunk(
  ctx: FetchContext,
  category: Category,
  id: string,
  progress: FetchProgress,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  let reply: Awaited<ReturnType<ServerSession['request']>>;
  try {
    reply = await ctx.session.request({
      type: 'fetch',
      subscriber: ctx.subscriberId,
      category,
      id,
      seq: progress.seq,
      offset,
      length,
    });
  } catch (e) {
    if (e instanceof SyncError && e.code === 'gone') await ctx.partial.discard(category, id);
    throw e;
  }
  const received = reply.type === 'substance' ? reply.bytes.length : 0;
  if (reply.type !== 'substance' || reply.offset !== offset || received === 0 || received > length) {
    throw new SyncError('protocol', `unexpected answer to fetch of ${category}/${id}`);
  }
  if (reply.size !== progress.size) throw new SyncError('protocol', `substance of ${id} changed size`);
  if (ctx.budget !== undefined) ctx.budget.down += received;
  return reply.bytes;
}
