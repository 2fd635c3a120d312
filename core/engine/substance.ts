import { bytesEqual } from '../bytes.js';
import { SyncError } from '../errors.js';
import type { ServerSession } from '../net/server-session.js';
import type { Category } from '../protocol/index.js';
import type { FetchProgress, PartialFetches } from '../store/partial-fetches.js';
import type { LocalRecord, RecordStore } from '../store/record-store.js';
import type { Budget } from './budget.js';

/** Bytes asked for in one fetch by default: few round trips, well under the 4 MiB message limit. */
export const SUBSTANCE_CHUNK_BYTES = 1024 * 1024;

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
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * [0094]: fetches the substance of a stub in chunks, each kept in NV as it
 * arrives, so a fetch cut by a link drop resumes from the last chunk. The
 * whole is checked against the stub's SHA-256 before it replaces the stub;
 * a mismatch keeps nothing. Resolves the record with its body, or, when
 * `budget` ran out first, still a stub, what came so far kept for the next try.
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
  const body = await receive(ctx, category, id, progress);
  if (body === undefined) return record;
  const forget = await ctx.partial.forget(category, id);
  if (body.length !== stub.size || !bytesEqual(await sha256(body), stub.hash)) {
    await ctx.partial.discard(category, id);
    throw new SyncError('protocol', `substance of ${category}/${id} does not match its hash`);
  }
  await ctx.store.installSubstance(category, id, progress.seq, body, forget);
  return (await ctx.store.get(category, id)) ?? record;
}

/** The whole substance, the chunks kept as they come; undefined when the budget stopped it. */
async function receive(
  ctx: FetchContext,
  category: Category,
  id: string,
  from: FetchProgress,
): Promise<Uint8Array | undefined> {
  let progress = from;
  while (progress.got < progress.size) {
    const length = chunkLength(ctx, progress);
    if (length === 0) return undefined;
    const bytes = await fetchChunk(ctx, category, id, progress, length);
    // One chunk holds it all: nothing to resume, so it goes straight to the record (written once).
    if (progress.got === 0 && bytes.length === progress.size) return bytes;
    progress = await ctx.partial.save(category, id, progress, bytes);
  }
  return ctx.partial.assemble(category, id);
}

/** The next chunk's length: a chunk, the rest, or what the sync's download limits leave ([0085]). */
function chunkLength(ctx: FetchContext, progress: FetchProgress): number {
  const allowance = ctx.budget === undefined ? Number.POSITIVE_INFINITY : ctx.budget.downAllowance();
  return Math.min(ctx.chunkBytes, progress.size - progress.got, Math.floor(allowance));
}

async function fetchChunk(
  ctx: FetchContext,
  category: Category,
  id: string,
  progress: FetchProgress,
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
      offset: progress.got,
      length,
    });
  } catch (e) {
    if (e instanceof SyncError && e.code === 'gone') await ctx.partial.discard(category, id);
    throw e;
  }
  const received = reply.type === 'substance' ? reply.bytes.length : 0;
  if (reply.type !== 'substance' || reply.offset !== progress.got || received === 0 || received > length) {
    throw new SyncError('protocol', `unexpected answer to fetch of ${category}/${id}`);
  }
  if (reply.size !== progress.size) throw new SyncError('protocol', `substance of ${id} changed size`);
  if (ctx.budget !== undefined) ctx.budget.down += received;
  return reply.bytes;
}
