import { z } from 'zod';
import { CATEGORIES } from './categories.js';
import { Filters, Folder } from './selection.js';

/**
 * The wire protocol, declared once (STYLE.md §7): a schema per message,
 * TypeScript types derived from it. Core and broker import this module and
 * nothing else of each other.
 *
 * Records travel as tuples, not maps, because they are the bulk of every
 * sync: a change costs ~25 bytes beyond its body (bench/wire-efficiency).
 */

const Bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected a byte string');
const Uint32 = z.number().int().min(0).max(0xffff_ffff);
/** Server sequence numbers and anchors (the change log position). */
export const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** IMSI as read from the SIM (TS 23.003 §2.2: at most 15 digits). */
export const SubscriberId = z.string().regex(/^[0-9]{5,15}$/, 'subscriber ID must be 5–15 digits');
export const Iccid = z.string().regex(/^[0-9]{18,20}$/, 'ICCID must be 18–20 digits');
export const RecordId = z.string().min(1).max(200);
export const CategoryCode = z
  .number()
  .int()
  .min(0)
  .max(CATEGORIES.length - 1);
export const CategoryName = z.enum(CATEGORIES);
const Categories = z.array(CategoryName).max(CATEGORIES.length);

/**
 * An array checked element by element that stops at the first bad one. A
 * plain z.array reports every bad element: 10^5 bad changes cost a second and
 * hundreds of MB of issues (issue 13), where a refusal needs only the first.
 */
function listOf<T extends z.ZodType>(item: T, max = Number.MAX_SAFE_INTEGER) {
  return z
    .array(z.unknown())
    .max(max)
    .transform((items, ctx): z.output<T>[] => {
      const out: z.output<T>[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const parsed = item.safeParse(items[i]);
        if (!parsed.success) {
          const first = parsed.error.issues[0] as z.core.$ZodIssue;
          ctx.issues.push({ ...first, path: [i, ...first.path], input: items[i] } as never);
          return z.NEVER;
        }
        out[i] = parsed.data;
      }
      return out;
    });
}

/** Most changes in one upload (and so sequences and issues in its ack). */
export const MAX_BATCH_CHANGES = 100_000;

/**
 * Most bytes of one `upload-part`: 1 MiB, a quarter of the message limit.
 * A terminal sends parts of at most its upload batch size and 256 KiB
 * (core/engine/upload-parts.ts PART_BYTES). Issue 20: parts of 120 KiB
 * made a photo nine requests and transactions, more than half of its
 * upload. A server with a smaller bound refuses a larger part 'too-large',
 * and the terminal halves its parts until they fit.
 */
export const MAX_UPLOAD_PART_BYTES = 1024 * 1024;

/** A SHA-256 digest. */
const Sha256 = Bytes.refine((b) => b.length === 32, 'expected a SHA-256 digest (32 bytes)');

/**
 * What a record says about itself beyond its body ([0033] selection, [0094]
 * stubs). Absent when there is nothing to say, so plain records cost nothing.
 */
export const WireMeta = z.strictObject({
  /** [0033]: the folder the record is filed in (mail: a send box, a receive box). */
  folder: Folder.optional(),
  /** [0033]: when the item itself was made (a mail's date), ms; recency filters use it. */
  date: Seq.optional(),
  /** A human title, shown for a stub before its substance is fetched ([0094]). */
  title: z.string().max(200).optional(),
  /**
   * [0094]: the body was left out (sent empty). `size` and `hash` (SHA-256)
   * describe the substance. Download: fetched on access with `fetch`.
   * Upload: sent beforehand in parts (`upload-part`); the server takes the
   * body it staged for this record with this hash.
   */
  stub: z.strictObject({ size: Seq, hash: Bytes }).optional(),
});
export type WireMeta = z.infer<typeof WireMeta>;

/**
 * One change: `[category, recordId, seq, editedAt, body, meta?]`.
 * - upload: `seq` is the base, the server sequence the edit started from (0 = new record).
 * - download: `seq` is the change's server sequence.
 * - `body` null means deleted ([0060]: deletion is a change like any other).
 * - `editedAt` is the editing terminal's hybrid logical clock, ms since the epoch (conflict tie-break).
 * - `meta` is optional (see WireMeta).
 */
export const WireChange = z.tuple([CategoryCode, RecordId, Seq, Seq, Bytes.nullable(), WireMeta.optional()]);
export type WireChange = z.infer<typeof WireChange>;

// ---- terminal → server ---------------------------------------------------

/** FIG. 8 S6 / FIG. 19: register this terminal for the subscriber whose SIM it holds. */
export const RegisterRequest = z.strictObject({
  type: z.literal('register'),
  req: Uint32,
  subscriber: SubscriberId,
  iccid: Iccid.optional(),
  /** The terminal password, hashed by the server (absent in shop registration, FIG. 19). */
  terminalPassword: z.string().min(1).max(256).optional(),
  categories: Categories,
  /**
   * The key the terminal ID commits to (core/protocol/terminal-identity.ts):
   * needed to register a terminal the server does not know yet, unless the
   * operator created the pair (FIG. 19).
   */
  terminalKey: Bytes.optional(),
});

/** FIG. 13 S52 + upload: authentication-use info (subscriber ID from the SIM) and the dirty records. */
export const UploadRequest = z.strictObject({
  type: z.literal('upload'),
  req: Uint32,
  subscriber: SubscriberId,
  /** Per-terminal increasing batch id: a retry of the last batch is answered, not applied again. */
  batch: Uint32,
  changes: listOf(WireChange, MAX_BATCH_CHANGES),
});

/** Download the changes after `after`, filtered by the terminal's categories, at most `maxBytes` of bodies. */
export const DownloadRequest = z.strictObject({
  type: z.literal('download'),
  req: Uint32,
  subscriber: SubscriberId,
  after: Seq,
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024),
  /** Only these of the terminal's categories ([0043] on access, or a catch-up of added ones). */
  categories: Categories.optional(),
  /** Only changes up to this sequence (a catch-up of categories added after the anchor passed them). */
  upTo: Seq.optional(),
  /**
   * [0085]: `maxBytes` is a hard cap, even for the first change: a page whose
   * first change would not fit comes back empty with `more` set.
   */
  strict: z.boolean().optional(),
  /** [0094]: bodies larger than `above` bytes in these categories come as stubs. */
  stubs: z.strictObject({ above: Seq, categories: Categories }).optional(),
});

/** FIG. 15 / FIG. 7b: the sync-target categories of this terminal. */
export const SetCategoriesRequest = z.strictObject({
  type: z.literal('set-categories'),
  req: Uint32,
  subscriber: SubscriberId,
  categories: Categories,
  /** [0033] finer criteria (folder, recency); absent = none. */
  filters: Filters.optional(),
});

/** [0043]: does the server hold changes after `after` (optionally of one category)? */
export const ProbeRequest = z.strictObject({
  type: z.literal('probe'),
  req: Uint32,
  subscriber: SubscriberId,
  after: Seq,
  category: CategoryName.optional(),
});

/** [0094]: a byte range of a stubbed record's substance, of the version `seq`. */
export const FetchRequest = z.strictObject({
  type: z.literal('fetch'),
  req: Uint32,
  subscriber: SubscriberId,
  category: CategoryName,
  id: RecordId,
  seq: Seq,
  offset: Seq,
  length: z
    .number()
    .int()
    .min(1)
    .max(4 * 1024 * 1024),
});

/**
 * [0094], the upload counterpart of `fetch`: `bytes` of a body too large for
 * an upload batch, from `offset`, of the body whose whole is `size` bytes
 * with SHA-256 `hash`. The server stages the parts (named by record and
 * hash, so a resumed upload finds its bytes again and an edit made since is
 * never spliced onto them) until an upload change names the body by its stub
 * (WireMeta.stub). A part must start where the staged bytes end; `bytes`
 * empty sends nothing and asks how far the server got. Answered `part-ack`.
 */
export const UploadPartRequest = z.strictObject({
  type: z.literal('upload-part'),
  req: Uint32,
  subscriber: SubscriberId,
  category: CategoryName,
  id: RecordId,
  offset: Seq,
  size: Seq,
  hash: Sha256,
  bytes: Bytes.refine(
    (b) => b.length <= MAX_UPLOAD_PART_BYTES,
    `a part holds at most ${MAX_UPLOAD_PART_BYTES} bytes`,
  ),
});

/** 16 bytes of a challenge (RAND, AUTN: TS 33.102 §6.3.2). */
const Block16 = Bytes.refine((b) => b.length === 16, 'expected 16 bytes');

/**
 * TS 33.102 §6.3: asks for a fresh AKA challenge for the subscriber's card.
 * Answered `aka-challenge`; with no RAND when the subscriber has no AKA key
 * on this server (no proof is asked for).
 */
export const AkaChallengeRequest = z.strictObject({
  type: z.literal('aka-challenge'),
  req: Uint32,
  subscriber: SubscriberId,
});

/**
 * The card's answer to the last challenge of this connection: RES (4–16
 * bytes, TS 33.102 §6.3.3), or AUTS (14 bytes) when the card found the
 * challenge's SQN out of range (§6.3.5). RES: answered `ok` and the
 * connection's requests are served; AUTS: a new `aka-challenge` after the
 * server re-synchronised its SQN. Exactly one of the two.
 */
export const AkaResponseRequest = z
  .strictObject({
    type: z.literal('aka-response'),
    req: Uint32,
    subscriber: SubscriberId,
    res: Bytes.refine((b) => b.length >= 4 && b.length <= 16, 'RES is 4–16 bytes').optional(),
    auts: Bytes.refine((b) => b.length === 14, 'AUTS is 14 bytes').optional(),
  })
  .refine((r) => (r.res === undefined) !== (r.auts === undefined), 'exactly one of res and auts');

export const Request = z.discriminatedUnion('type', [
  RegisterRequest,
  UploadRequest,
  DownloadRequest,
  SetCategoriesRequest,
  ProbeRequest,
  FetchRequest,
  UploadPartRequest,
  AkaChallengeRequest,
  AkaResponseRequest,
]);
export type Request = z.infer<typeof Request>;
export type AkaChallengeRequest = z.infer<typeof AkaChallengeRequest>;
export type AkaResponseRequest = z.infer<typeof AkaResponseRequest>;
export type RegisterRequest = z.infer<typeof RegisterRequest>;
export type UploadRequest = z.infer<typeof UploadRequest>;
export type DownloadRequest = z.infer<typeof DownloadRequest>;
export type SetCategoriesRequest = z.infer<typeof SetCategoriesRequest>;
export type ProbeRequest = z.infer<typeof ProbeRequest>;
export type FetchRequest = z.infer<typeof FetchRequest>;
export type UploadPartRequest = z.infer<typeof UploadPartRequest>;

// ---- server → terminal ---------------------------------------------------

export const RegisteredReply = z.strictObject({
  type: z.literal('registered'),
  req: Uint32,
  /** The terminal's connection credential: shown once, stored only hashed on the server. */
  credential: z.string().min(16).max(256),
  categories: Categories,
});

export const UploadIssue = z.strictObject({
  /** Index of the change in the request. */
  index: Uint32,
  /**
   * 'not-staged': the change names a body by its stub ([0094] upload) that the
   * server does not hold whole (never sent, or expired): nothing was applied
   * for it; upload the parts again and resend.
   */
  code: z.enum(['conflict-won', 'conflict-lost', 'rejected', 'not-staged']),
  reason: z.string().max(500),
  /** conflict-lost: the winning server version, to apply locally at once. */
  winner: WireChange.optional(),
  /** Conflicts: the id of the record preserving the losing version ([0068]). */
  copyId: RecordId.optional(),
});
export type UploadIssue = z.infer<typeof UploadIssue>;

export const UploadAck = z.strictObject({
  type: z.literal('upload-ack'),
  req: Uint32,
  batch: Uint32,
  /** Per change, in request order: its new server sequence, or 0 when not applied (see issues). */
  seqs: listOf(Seq),
  issues: listOf(UploadIssue),
  /**
   * The subscriber's latest sequence just before and just after this batch was
   * applied. A terminal whose anchor equals `previous` holds everything up to
   * `latest` (unless a conflict-won copy was made), so it moves its anchor
   * there and does not download its own changes back.
   */
  previous: Seq,
  latest: Seq,
});

export const ChangesReply = z.strictObject({
  type: z.literal('changes'),
  req: Uint32,
  changes: listOf(WireChange),
  /** The anchor to store once these changes are applied. */
  next: Seq,
  more: z.boolean(),
});

export const OkReply = z.strictObject({
  type: z.literal('ok'),
  req: Uint32,
  categories: Categories.optional(),
  filters: Filters.optional(),
});

export const ProbeReply = z.strictObject({
  type: z.literal('probe-result'),
  req: Uint32,
  latest: Seq,
  pending: z.boolean(),
});

/** [0094]: `bytes` of the substance from `offset`; `size` is the whole. */
export const SubstanceReply = z.strictObject({
  type: z.literal('substance'),
  req: Uint32,
  seq: Seq,
  offset: Seq,
  size: Seq,
  bytes: Bytes,
});

/** [0094]: the server holds `got` bytes of the body an `upload-part` named (all of them: `got` = its size). */
export const PartAck = z.strictObject({
  type: z.literal('part-ack'),
  req: Uint32,
  got: Seq,
});

/**
 * TS 33.102 §6.3.2: RAND and AUTN for the card, or neither when the server
 * holds no AKA key for the subscriber.
 */
export const AkaChallengeReply = z.strictObject({
  type: z.literal('aka-challenge'),
  req: Uint32,
  rand: Block16.optional(),
  autn: Block16.optional(),
});

export const ERROR_CODES = [
  'malformed',
  'too-large',
  'not-registered',
  'revoked',
  'out-of-order',
  'bad-secret',
  /** register: a terminal the server does not know must show the key its ID commits to. */
  'unproven-terminal',
  /** fetch: that version of the record is no longer the current one (or not there). */
  'gone',
  /**
   * upload-part: the server takes nothing of this record (the message says
   * why: a category this terminal does not sync, parts that do not match
   * their hash); the rest of the sync is unaffected.
   */
  'rejected',
  /**
   * The subscriber's card must prove itself (AKA, TS 33.102 §6.3) on this
   * connection before anything else is served; ask for `aka-challenge`.
   */
  'aka-required',
  /** The card's RES (or AUTS) did not match the challenge: the connection is closed. */
  'aka-failed',
  /** The server's store is away for a moment: nothing was applied; send the same request again later. */
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const ErrorReply = z.strictObject({
  type: z.literal('error'),
  /** The request this answers, when it could be read. */
  req: Uint32.nullable(),
  code: z.enum(ERROR_CODES),
  message: z.string().max(500),
});

/** [0044]: the server holds updates this terminal has not downloaded. */
export const UpdatesNotice = z.strictObject({
  type: z.literal('updates'),
  latest: Seq,
  categories: Categories,
});

export const Reply = z.discriminatedUnion('type', [
  RegisteredReply,
  UploadAck,
  ChangesReply,
  OkReply,
  ProbeReply,
  SubstanceReply,
  PartAck,
  AkaChallengeReply,
  ErrorReply,
  UpdatesNotice,
]);
export type Reply = z.infer<typeof Reply>;
export type RegisteredReply = z.infer<typeof RegisteredReply>;
export type UploadAck = z.infer<typeof UploadAck>;
export type ChangesReply = z.infer<typeof ChangesReply>;
export type OkReply = z.infer<typeof OkReply>;
export type ProbeReply = z.infer<typeof ProbeReply>;
export type SubstanceReply = z.infer<typeof SubstanceReply>;
export type PartAck = z.infer<typeof PartAck>;
export type AkaChallengeReply = z.infer<typeof AkaChallengeReply>;
export type ErrorReply = z.infer<typeof ErrorReply>;
export type UpdatesNotice = z.infer<typeof UpdatesNotice>;
