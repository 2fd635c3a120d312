import { bytesEqual } from '../bytes.js';
import { SyncError } from '../errors.js';
import type { ServerSession } from '../net/server-session.js';
import type { Category } from '../protocol/index.js';
import type { FetchProgress, PartialFetches } from '../store/partial-fetches.js';
import type { LocalRecord, RecordStore } from '../store/record-store.js';

export interface FetchContext {
  session: ServerSession;
  store: RecordStore;
  partial: PartialFetches;
  subscriberId: string;
  chunkBytes: number;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * [0094]: fetches the substance of a stub in chunks, each kept in NV as it
 * arrives, so a fetch cut by a link drop resumes from the last chunk. The
 * whole is checked against the stub's SHA-256 before it replaces the stub;
 * a mismatch keeps nothing. Resolves the record with its body.
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
  let body: Uint8Array;
  if (progress.got === 0 && progress.size <= ctx.chunkBytes) {
    // One chunk holds it all: nothing to resume, so it goes straight to the record (written once).
    body = await fetchChunk(ctx, category, id, progress);
  } else {
    while (progress.got < progress.size) {
      progress = await ctx.partial.save(
        category,
        id,
        progress,
        await fetchChunk(ctx, category, id, progress),
      );
    }
    body = await ctx.partial.assemble(category, id);
  }
  const forget = await ctx.partial.forget(category, id);
  if (body.length !== stub.size || !bytesEqual(await sha256(body), stub.hash)) {
    await ctx.partial.discard(category, id);
    throw new SyncError('protocol', `substance of ${category}/${id} does not match its hash`);
  }
  await ctx.store.installSubstance(category, id, progress.seq, body, forget);
  return (await ctx.store.get(category, id)) ?? record;
}

async function fetchChunk(
  ctx: FetchContext,
  category: Category,
  id: string,
  progress: FetchProgress,
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
      length: Math.min(ctx.chunkBytes, progress.size - progress.got),
    });
  } catch (e) {
    if (e instanceof SyncError && e.code === 'gone') await ctx.partial.discard(category, id);
    throw e;
  }
  if (reply.type !== 'substance' || reply.offset !== progress.got || reply.bytes.length === 0) {
    throw new SyncError('protocol', `unexpected answer to fetch of ${category}/${id}`);
  }
  if (reply.size !== progress.size) throw new SyncError('protocol', `substance of ${id} changed size`);
  return reply.bytes;
}
