import { decode, encode } from 'cborg';
import type { z } from 'zod';
import { BoundedTokenizer, type CborLimit, CborLimitError, type CborLimits } from './cbor-limits.js';
import { MAX_BATCH_CHANGES, MAX_UPLOAD_PART_BYTES, Reply, Request } from './messages.js';

/** Largest MQTT payload either side accepts (the broker also enforces it at the transport). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export type ProtocolErrorKind = 'too-large' | 'malformed';

/** A payload that is not a valid message. Nothing was applied. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly kind: ProtocolErrorKind,
    message: string,
    /** The request id, when the payload was CBOR with a readable `req`. */
    readonly req: number | null = null,
    /** The decoding bound it broke (cbor-limits.ts), when it broke one. */
    readonly limit: CborLimit | null = null,
  ) {
    super(message);
  }
}

const DECODE_OPTIONS = {
  strict: true,
  allowUndefined: false,
  allowIndefinite: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false,
};

const KIB = 1024;
/** Kinds whose size only the message limit bounds: their limits follow from the bytes alone. */
const BY_BYTES = Number.MAX_SAFE_INTEGER;

/**
 * The most each kind of message can hold under its schema (messages.ts), so
 * that a larger one is refused while it is read (issue 13, decode bombs).
 * Items count every CBOR head; `n` below is a map of n entries (1 + 2n items).
 * Categories lists hold at most 8; filters at most 8 folder lists of 64
 * (67 items each with its key) and 8 day counts. Bytes: strings of n UTF-16
 * units take at most 3n bytes; every kind without byte strings or long lists
 * fits in 4 KiB with room to spare.
 */
export const REQUEST_LIMITS: Record<Request['type'], CborLimits> = {
  // 7 entries (type, req, subscriber, iccid, terminalPassword, terminalKey, categories[8]).
  register: { maxBytes: 4 * KIB, maxItems: 23, maxContainers: 2, maxDepth: 2, maxLength: 8 },
  // 5 entries.
  probe: { maxBytes: 4 * KIB, maxItems: 11, maxContainers: 1, maxDepth: 1, maxLength: 5 },
  // 3 entries.
  'aka-challenge': { maxBytes: 4 * KIB, maxItems: 7, maxContainers: 1, maxDepth: 1, maxLength: 3 },
  // 5 entries (type, req, subscriber, res or auts: one of the two, but a bad request may send both).
  'aka-response': { maxBytes: 4 * KIB, maxItems: 11, maxContainers: 1, maxDepth: 1, maxLength: 5 },
  // 8 entries.
  fetch: { maxBytes: 4 * KIB, maxItems: 17, maxContainers: 1, maxDepth: 1, maxLength: 8 },
  // 9 entries: the part's bytes, and under 1 KiB besides (an id of ≤ 600 bytes, a 32-byte hash,
  // keys, three numbers of ≤ 9 bytes, a subscriber and a category name).
  'upload-part': {
    maxBytes: MAX_UPLOAD_PART_BYTES + KIB,
    maxItems: 19,
    maxContainers: 1,
    maxDepth: 1,
    maxLength: 9,
  },
  // 9 entries, categories[8], stubs {above, categories[8]}.
  download: { maxBytes: 4 * KIB, maxItems: 39, maxContainers: 4, maxDepth: 3, maxLength: 9 },
  // 5 entries, categories[8], filters {folders: 8 × [64 folders of ≤ 192 B], recentDays: 8}: ~100 KB.
  'set-categories': { maxBytes: 128 * KIB, maxItems: 567, maxContainers: 13, maxDepth: 4, maxLength: 64 },
  // 5 entries, changes[100,000], a change = [6] + meta {folder, date, title, stub {size, hash}}:
  // 19 items and 3 containers per change.
  upload: {
    maxBytes: BY_BYTES,
    maxItems: 11 + 19 * MAX_BATCH_CHANGES,
    maxContainers: 2 + 3 * MAX_BATCH_CHANGES,
    maxDepth: 5,
    maxLength: MAX_BATCH_CHANGES,
  },
};

/** Replies come from the server the terminal chose; only the small kinds are bounded tighter than by bytes. */
export const REPLY_LIMITS: Record<Reply['type'], CborLimits> = {
  // 4 entries, categories[8].
  registered: { maxBytes: 4 * KIB, maxItems: 17, maxContainers: 2, maxDepth: 2, maxLength: 8 },
  // 4 entries, categories[8], filters as in set-categories.
  ok: { maxBytes: 128 * KIB, maxItems: 565, maxContainers: 13, maxDepth: 4, maxLength: 64 },
  'probe-result': { maxBytes: 4 * KIB, maxItems: 9, maxContainers: 1, maxDepth: 1, maxLength: 4 },
  error: { maxBytes: 4 * KIB, maxItems: 9, maxContainers: 1, maxDepth: 1, maxLength: 4 },
  // 3 entries, categories[8].
  updates: { maxBytes: 4 * KIB, maxItems: 15, maxContainers: 2, maxDepth: 2, maxLength: 8 },
  // 4 entries (type, req, rand, autn).
  'aka-challenge': { maxBytes: 4 * KIB, maxItems: 9, maxContainers: 1, maxDepth: 1, maxLength: 4 },
  // 3 entries.
  'part-ack': { maxBytes: 4 * KIB, maxItems: 7, maxContainers: 1, maxDepth: 1, maxLength: 3 },
  // 6 entries, the bytes as long as the message allows.
  substance: { maxBytes: BY_BYTES, maxItems: 13, maxContainers: 1, maxDepth: 1, maxLength: 6 },
  // Issues hold winners: map → issues → issue → winner → meta → stub.
  'upload-ack': {
    maxBytes: BY_BYTES,
    maxItems: BY_BYTES,
    maxContainers: BY_BYTES,
    maxDepth: 6,
    maxLength: BY_BYTES,
  },
  changes: {
    maxBytes: BY_BYTES,
    maxItems: BY_BYTES,
    maxContainers: BY_BYTES,
    maxDepth: 5,
    maxLength: BY_BYTES,
  },
};

/**
 * Kinds whose bytes are a chunk of one body and nearly all of the message
 * (issue 20): decoded in place, sharing the payload's memory, instead of
 * copied out of it (a MB each, and the garbage of it). Every other kind's
 * byte strings are copies, so that a small body kept does not hold a page.
 */
const SHARES_PAYLOAD: ReadonlySet<string> = new Set(['substance', 'upload-part']);

/**
 * The payload as cborg reads it for those kinds: cborg takes a byte string
 * with `slice`, which here gives a plain view of the same memory instead of
 * a copy (as a Node Buffer's would, but portable).
 */
class InPlace extends Uint8Array {
  override slice(start = 0, end = this.length): Uint8Array<ArrayBuffer> {
    const from = Math.min(Math.max(start < 0 ? this.length + start : start, 0), this.length);
    const to = Math.min(Math.max(end < 0 ? this.length + end : end, from), this.length);
    return new Uint8Array(this.buffer as ArrayBuffer, this.byteOffset + from, to - from);
  }
}

/** The loosest of a table: what applies until the message's `type` has been read. */
function loosest(table: Record<string, CborLimits>): CborLimits {
  const all = Object.values(table);
  const most = (key: keyof CborLimits) => Math.max(...all.map((l) => l[key]));
  return {
    maxBytes: most('maxBytes'),
    maxItems: most('maxItems'),
    maxContainers: most('maxContainers'),
    maxDepth: most('maxDepth'),
    maxLength: most('maxLength'),
  };
}

const ANY_REQUEST = loosest(REQUEST_LIMITS);
const ANY_REPLY = loosest(REPLY_LIMITS);

const capped = (limits: CborLimits, maxBytes: number): CborLimits => ({
  ...limits,
  maxBytes: Math.min(limits.maxBytes, maxBytes),
});

function isReq(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}

/**
 * CBOR → value within the limits of its kind, read from its `type` as soon as
 * that is read. The bounds are checked over every head before anything is
 * built, so a refused payload costs tokenising up to a limit and no memory
 * that outlives it. (The first pass adds ~40 ms to the ~250 ms a
 * 100,000-change upload takes to decode and validate.)
 */
function boundedDecode(
  bytes: Uint8Array,
  table: Record<string, CborLimits>,
  any: CborLimits,
  maxBytes: number,
) {
  // cborg slices byte strings; a Node Buffer's slice would share the payload's memory.
  const data =
    bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  let req: number | null = null;
  let label = 'message';
  let kind: string | undefined;
  try {
    const tokenizer = new BoundedTokenizer(data, DECODE_OPTIONS, capped(any, maxBytes), (key, value) => {
      if (key === 'req' && isReq(value)) req = value;
      if (key !== 'type') return undefined;
      const limits = typeof value === 'string' && Object.hasOwn(table, value) ? table[value] : undefined;
      if (!limits) throw new ProtocolError('malformed', `unknown message type ${JSON.stringify(value)}`, req);
      kind = value as string;
      label = `${value} message`;
      return capped(limits, maxBytes);
    });
    // Heads first, building nothing: a refused bomb leaves only short-lived tokens behind.
    while (!tokenizer.done()) tokenizer.next();
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    if (e instanceof CborLimitError) {
      const errorKind = e.limit === 'bytes' ? 'too-large' : 'malformed';
      throw new ProtocolError(errorKind, `${label} over its limits: ${e.message}`, req, e.limit);
    }
    throw new ProtocolError('malformed', `not CBOR: ${(e as Error).message}`, req);
  }
  try {
    const shared = kind !== undefined && SHARES_PAYLOAD.has(kind);
    return decode(
      shared ? new InPlace(data.buffer as ArrayBuffer, data.byteOffset, data.length) : data,
      DECODE_OPTIONS,
    ) as unknown;
  } catch (e) {
    throw new ProtocolError('malformed', `not CBOR: ${(e as Error).message}`, req);
  }
}

function decodeWith<S extends z.ZodType>(
  schema: S,
  bytes: Uint8Array,
  maxBytes: number,
  table: Record<string, CborLimits>,
  any: CborLimits,
): z.infer<S> {
  if (bytes.length > maxBytes) {
    throw new ProtocolError(
      'too-large',
      `message of ${bytes.length} bytes exceeds ${maxBytes}`,
      null,
      'bytes',
    );
  }
  const value = boundedDecode(bytes, table, any, maxBytes);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    throw new ProtocolError(
      'malformed',
      `invalid message at ${where}: ${issue?.message ?? 'unknown'}`,
      readReq(value),
    );
  }
  return parsed.data;
}

function readReq(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const req = (value as { req?: unknown }).req;
  return isReq(req) ? req : null;
}

export function encodeRequest(message: Request): Uint8Array {
  return encode(message);
}

export function encodeReply(message: Reply): Uint8Array {
  return encode(message);
}

export function decodeRequest(bytes: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): Request {
  return decodeWith(Request, bytes, maxBytes, REQUEST_LIMITS, ANY_REQUEST);
}

export function decodeReply(bytes: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): Reply {
  return decodeWith(Reply, bytes, maxBytes, REPLY_LIMITS, ANY_REPLY);
}
