import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import { MAX_UPLOAD_PART_BYTES, type UploadPartRequest } from '../protocol/index.js';
import type { LocalRecord } from '../store/record-store.js';
import type { RunContext } from './run-context.js';

/**
 * [0094], the upload counterpart of fetching a stub's substance: a body
 * larger than an upload batch goes up beforehand in parts, which the server
 * stages, and the batch then carries only its stub (size and SHA-256).
 * Nothing about it is kept on the terminal: the server's staging is named by
 * the record and the hash, so after a cut the next sync asks how far the
 * server got and sends only the rest, each byte once.
 */

/**
 * Above this a body goes in parts whatever the batch size: one message
 * carries at most 4 MiB (MAX_MESSAGE_BYTES), and a server may allow less.
 */
const MAX_INLINE_BODY_BYTES = 1024 * 1024;

/** A record whose body goes up in parts: larger than a batch (or than MAX_INLINE_BODY_BYTES, or than half what the server refused). */
export type LargeRecord = LocalRecord & { body: Uint8Array };

export function isLarge(
  ctx: Pick<RunContext, 'batchBytes' | 'refusedBytes'>,
  record: LocalRecord,
): record is LargeRecord {
  const inline = Math.min(ctx.batchBytes, MAX_INLINE_BODY_BYTES, underRefused(ctx));
  return record.body !== null && record.body.length > inline;
}

/** What an upload change says of a body sent in parts. */
export interface SentStub {
  size: number;
  hash: Uint8Array;
}

export type StageResult =
  | { kind: 'staged'; stub: SentStub }
  /** The server will not take this record (too large even in parts, …): `reason` says why. */
  | { kind: 'refused'; reason: string }
  /** The sync's upload limit ([0085]) ran out first; the server keeps what came, for the next sync. */
  | { kind: 'stopped' };

/** Error codes by which the server refuses one record's parts, and not the sync. */
const RECORD_REFUSALS = new Set(['too-large', 'rejected', 'malformed']);

/** Times the terminal asks where to go on when the server finds a part out of place. */
const MAX_RESYNCS = 3;
/** Parts are halved while a server finds them too large, down to this. */
const MIN_PART_BYTES = 1024;

export async function stubOf(body: Uint8Array): Promise<SentStub> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>);
  return { size: body.length, hash: new Uint8Array(digest) };
}

/**
 * Sends the parts of `record`'s body the server does not hold yet, within
 * the upload allowance, and resolves when it holds them all. A link drop
 * rejects as the request did; the server keeps what it acknowledged.
 */
export async function stageBody(ctx: RunContext, record: LargeRecord): Promise<StageResult> {
  const stub = await stubOf(record.body);
  const head: PartHead = {
    type: 'upload-part',
    subscriber: ctx.subscriberId,
    category: record.category,
    id: record.id,
    size: stub.size,
    hash: stub.hash,
  };
  try {
    if ((await sendParts(ctx, head, record.body)) === 'stopped') return { kind: 'stopped' };
    return { kind: 'staged', stub };
  } catch (e) {
    if (e instanceof SyncError && e.kind === 'server-refused' && RECORD_REFUSALS.has(e.code ?? '')) {
      return { kind: 'refused', reason: e.message };
    }
    throw e;
  }
}

type PartHead = Omit<UploadPartRequest, 'req' | 'offset' | 'bytes'>;

const NOTHING = new Uint8Array(0);

/**
 * Parts sent before the first of them is acknowledged (issue 20): the
 * terminal frames the next part while the server stores this one. The
 * server takes a connection's requests in order, so they land in order.
 */
export const PART_WINDOW = 2;

interface PartInFlight {
  from: number;
  length: number;
  ack: Promise<number>;
}

/**
 * The most bytes a terminal puts in a part: a drop costs at most PART_WINDOW
 * of them again, and a part is one request and one staged write on the
 * server (parts of 120 KiB made a photo nine of each).
 */
export const PART_BYTES = 256 * 1024;

/** The bytes of a part: at most a batch's, PART_BYTES and what the protocol allows. */
export function partBytesOf(batchBytes: number): number {
  return Math.min(batchBytes, PART_BYTES, MAX_UPLOAD_PART_BYTES);
}

/** What a batch or part may hold after the server refused `refusedBytes` as too large: half of it. */
export function underRefused(ctx: Pick<RunContext, 'refusedBytes'>): number {
  return ctx.refusedBytes === undefined
    ? Number.POSITIVE_INFINITY
    : Math.max(MIN_PART_BYTES, Math.floor(ctx.refusedBytes / 2));
}

/** Notes that the server refused `bytes` as too large (RunContext.refusedBytes). */
export function refusedAsTooLarge(ctx: Pick<RunContext, 'refusedBytes'>, bytes: number): void {
  ctx.refusedBytes = Math.min(ctx.refusedBytes ?? Number.POSITIVE_INFINITY, bytes);
}

/** The parts from where the server got; 'stopped' when the allowance ran out first. */
async function sendParts(ctx: RunContext, head: PartHead, body: Uint8Array): Promise<'staged' | 'stopped'> {
  let partBytes = Math.min(partBytesOf(ctx.batchBytes), underRefused(ctx));
  let resyncs = 0;
  let got = await sendPart(ctx, head, 0, NOTHING);
  let next = got;
  const inFlight: PartInFlight[] = [];
  // One part alone until one of this size is taken: a server with smaller messages refuses it
  // once, not once per part in flight.
  let sized = false;
  const fill = () => {
    while (inFlight.length < (sized ? PART_WINDOW : 1) && next < body.length) {
      const asked = inFlight.reduce((n, f) => n + f.length, 0);
      const length = Math.min(partBytes, body.length - next, ctx.budget.upAllowance() - asked);
      if (length <= 0) return;
      const ack = sendPart(ctx, head, next, body.subarray(next, next + length));
      // A rejection is taken when the part's turn comes, or waited out below.
      ack.catch(() => undefined);
      inFlight.push({ from: next, length, ack });
      next += length;
    }
  };
  while (got < body.length) {
    fill();
    const part = inFlight.shift();
    if (part === undefined) return 'stopped';
    try {
      got = await part.ack;
      ctx.budget.up += got - part.from;
      sized = true;
    } catch (e) {
      // The parts after a refused one are refused too (out of place): let them come back first.
      await Promise.allSettled(inFlight.splice(0).map((f) => f.ack));
      if (!(e instanceof SyncError && e.kind === 'server-refused')) throw e;
      // The record's size passed the first (empty) part: what is too large is this part, for a
      // server whose messages are smaller than ours.
      const tooLarge = e.code === 'too-large' && part.length > MIN_PART_BYTES;
      // Otherwise only a part out of place (one the server took after all, or lost) goes on.
      if (!tooLarge && (e.code !== 'out-of-order' || ++resyncs > MAX_RESYNCS)) throw e;
      if (tooLarge) {
        refusedAsTooLarge(ctx, part.length);
        partBytes = underRefused(ctx);
        sized = false;
      }
      // Where to go on from.
      got = await sendPart(ctx, head, 0, NOTHING);
      next = got;
    }
  }
  return 'staged';
}

/** One part (none: just asking); resolves how many bytes of the body the server holds now. */
async function sendPart(ctx: RunContext, head: PartHead, offset: number, bytes: Uint8Array): Promise<number> {
  const ack = expectReply(await ctx.session.request({ ...head, offset, bytes }), 'part-ack');
  const expected = offset + bytes.length;
  if (bytes.length > 0 ? ack.got !== expected : ack.got > head.size) {
    throw new SyncError(
      'protocol',
      `server holds ${ack.got} bytes of ${head.id} after a part to ${expected}`,
    );
  }
  return ack.got;
}
