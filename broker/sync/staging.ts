import { createHash } from 'node:crypto';
import type { UploadPartRequest } from '../../core/protocol/index.js';
import type { Staging, StagingKey, SyncStore, SyncTx } from '../store/sync-store.js';
import { checkPair, type PairRefusal } from './pair.js';

/**
 * [0094], the upload counterpart of a stub's fetch: a body larger than an
 * upload batch is sent beforehand in parts (`upload-part`) and staged here,
 * then an ordinary upload change names it by its stub (size and SHA-256), so
 * it is applied like any other change: conflicts, base, ack, idempotent
 * retry (upload.ts).
 *
 * A staging is named by terminal and record and holds one version, told by
 * its size and hash: a resumed upload finds its bytes again, and a newer
 * edit (another hash) starts afresh instead of being spliced onto them.
 * Bounded: a body is at most `maxRecordBytes`, a terminal stages one body at
 * a time (starting another drops the earlier), and a staging left without a
 * part for `stagingTtlMs` is dropped.
 */

export interface StagingLimits {
  /** Largest record body, inline or in parts. */
  maxRecordBytes: number;
  /** How long a staging is kept after its last part (default DEFAULT_STAGING_TTL_MS). */
  stagingTtlMs?: number | undefined;
}

/**
 * The default of `maxRecordBytes`: 255 MiB, since PostgreSQL hands bytea back
 * as hex text and a V8 string (2^29 − 24 characters) holds the hex of at most
 * 256 MiB − 13 bytes: a larger body could be stored but never read again.
 */
export const DEFAULT_MAX_RECORD_BYTES = 255 * 1024 * 1024;

/** A day: a terminal cut off mid-upload resumes at any sync that day; an upload given up holds its disk no longer. */
export const DEFAULT_STAGING_TTL_MS = 24 * 60 * 60_000;

/** Parts read at a time when a staged body is hashed or assembled (≤ 8 MiB of parts at their largest). */
const PARTS_PER_READ = 8;

export type PartRefusal = 'too-large' | 'rejected' | 'malformed' | 'out-of-order' | PairRefusal;

export type PartOutcome =
  /** The server holds `got` bytes of the body; `stored` of them came with this request. */
  | { kind: 'held'; got: number; stored: number; started: boolean }
  | { kind: 'refused'; code: PartRefusal; reason: string };

const refused = (code: PartRefusal, reason: string): PartOutcome => ({ kind: 'refused', code, reason });

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Is `held` the staging of the body the request names, still live? */
function isLive(held: Staging | undefined, request: UploadPartRequest, now: number): held is Staging {
  return (
    held !== undefined &&
    held.expiresAt > now &&
    held.subscriber === request.subscriber &&
    held.size === request.size &&
    sameHash(held.hash, request.hash)
  );
}

/**
 * One `upload-part` in its own transaction, not waited onto the disk
 * (SyncStore `durable: false`): a part lost to a power cut is one the
 * terminal is told the server lacks, and sends again; the upload that uses
 * the staged body commits durably, and that commit makes its parts durable
 * too. A staging started sweeps out the expired ones.
 */
export async function uploadPart(
  store: SyncStore,
  terminalId: string,
  request: UploadPartRequest,
  now: number,
  limits: StagingLimits,
): Promise<PartOutcome> {
  const outcome = await store.transaction((tx) => stagePart(tx, terminalId, request, now, limits), {
    durable: false,
  });
  // An index range read: cheap enough at each start, so no timer is needed.
  if (outcome.kind === 'held' && outcome.started) await store.expireStaging(now);
  return outcome;
}

/**
 * Takes one part inside `tx`: it must start where the staged bytes end (a
 * body not staged yet starts at 0). The part that completes the body is
 * checked against the hash; a mismatch drops the staging whole. An empty
 * part stores nothing and answers how far the server got.
 */
export async function stagePart(
  tx: SyncTx,
  terminalId: string,
  request: UploadPartRequest,
  now: number,
  limits: StagingLimits,
): Promise<PartOutcome> {
  const { size, offset, bytes } = request;
  if (size > limits.maxRecordBytes) {
    return refused(
      'too-large',
      `record of ${size} bytes exceeds the server's maximum of ${limits.maxRecordBytes}`,
    );
  }
  if (offset + bytes.length > size) {
    return refused('malformed', `part of ${bytes.length} bytes at ${offset} runs past the body's ${size}`);
  }
  const terminal = await tx.getTerminal(terminalId);
  const pair = checkPair(terminal, request.subscriber);
  if (pair || !terminal) return refused(pair ?? 'not-registered', pair ?? 'not-registered');
  if (!terminal.categories.includes(request.category)) {
    return refused('rejected', `category ${request.category} is not synced by this terminal`);
  }
  const key: StagingKey = { terminalId, category: request.category, recordId: request.id };
  const held = await tx.getStaging(key);
  const live = isLive(held, request, now);
  const got = live ? held.got : 0;
  if (bytes.length === 0) return { kind: 'held', got, stored: 0, started: false };
  if (offset !== got) {
    return refused('out-of-order', `part at ${offset}, but the server holds ${got} bytes of ${request.id}`);
  }
  const expiresAt = now + (limits.stagingTtlMs ?? DEFAULT_STAGING_TTL_MS);
  if (!live) {
    // One body at a time per terminal: what it staged before is given up.
    await tx.dropStaging({ terminalId });
    await tx.startStaging({
      ...key,
      subscriber: request.subscriber,
      size,
      hash: request.hash,
      got: 0,
      expiresAt,
    });
  }
  await tx.appendStagedPart(key, got, bytes, expiresAt);
  const next = got + bytes.length;
  if (next === size && !sameHash(await stagedHash(tx, key), request.hash)) {
    await tx.dropStaging(key);
    return refused('rejected', `the ${size} bytes of ${request.id} do not match their SHA-256: nothing kept`);
  }
  return { kind: 'held', got: next, stored: bytes.length, started: !live };
}

async function stagedHash(tx: SyncTx, key: StagingKey): Promise<Uint8Array> {
  const hash = createHash('sha256');
  for (let from = 0; ; ) {
    const parts = await tx.stagedParts(key, from, PARTS_PER_READ);
    for (const part of parts) hash.update(part.bytes);
    const last = parts.at(-1);
    if (parts.length < PARTS_PER_READ || last === undefined) break;
    from = last.offset + last.bytes.length;
  }
  return new Uint8Array(hash.digest());
}

/**
 * The whole body staged for a record, when it is complete, live, of this
 * subscriber and of this size and hash (the stub an upload change names);
 * undefined otherwise.
 */
export async function stagedBody(
  tx: SyncTx,
  key: StagingKey,
  subscriber: string,
  stub: { size: number; hash: Uint8Array },
  now: number,
): Promise<Uint8Array | undefined> {
  const held = await tx.getStaging(key);
  if (held === undefined || held.subscriber !== subscriber || held.expiresAt <= now) return undefined;
  if (held.got !== held.size || held.size !== stub.size || !sameHash(held.hash, stub.hash)) return undefined;
  const body = new Uint8Array(held.size);
  for (let from = 0; from < held.size; ) {
    const parts = await tx.stagedParts(key, from, PARTS_PER_READ);
    if (parts.length === 0) return undefined;
    for (const part of parts) body.set(part.bytes, part.offset);
    const last = parts.at(-1) as { offset: number; bytes: Uint8Array };
    from = last.offset + last.bytes.length;
  }
  return body;
}
