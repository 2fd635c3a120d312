import {
  type Category,
  categoryFromCode,
  decodeReply,
  encodeReply,
  fromWireMeta,
  type UploadAck,
  type UploadIssue,
  type UploadRequest,
} from '../../core/protocol/index.js';
import type { AuditEntry, SyncStore, SyncTx, TerminalRow } from '../store/sync-store.js';
import { checkPair, type PairRefusal } from './pair.js';
import { resolve, type UploadedChange } from './resolve.js';
import { type StagingLimits, stagedBody } from './staging.js';
import { toWire } from './wire.js';

export interface UploadLimits extends StagingLimits {
  /** Largest body of one record, inline or uploaded in parts (staging.ts); larger ones are rejected. */
  maxRecordBytes: number;
  /** Bytes of winning versions an ack may carry; past it `winner` is left out (the terminal downloads it). */
  maxWinnerBytes: number;
  /**
   * Characters of issue reasons an ack may carry; past it reasons are left
   * empty, so that an ack of a large batch still fits in one message.
   */
  maxReasonChars: number;
  /** Largest encoded ack; a batch whose ack would be larger is not applied. */
  maxAckBytes: number;
}

/** Thrown inside the transaction to roll a batch back whose ack would not fit in a message. */
class AckTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`acknowledgement of ${bytes} bytes`);
  }
}

export type UploadOutcome =
  | { kind: 'applied'; ack: UploadAck; changed: Category[]; latest: number; applied: number; bytes: number }
  | { kind: 'replayed'; ack: UploadAck }
  | { kind: 'out-of-order'; lastBatch: number }
  | { kind: 'too-large'; ackBytes: number }
  | { kind: 'refused'; refusal: PairRefusal; terminal: TerminalRow | undefined };

/**
 * How far ahead of the server's clock an edit's timestamp may be. A terminal
 * whose clock runs fast would otherwise win every conflict ([0068]); past
 * this the timestamp is taken as the server's time.
 */
export const MAX_CLOCK_LEAD_MS = 5 * 60_000;

/** The audit line of an applied batch, from what it applied (bytes: the bodies it carried itself). */
export type UploadAudit = (tally: { uploaded: number; uploadedBytes: number }) => AuditEntry;

/**
 * FIG. 13/14 upload: applies a batch of changes in ONE transaction together
 * with its acknowledgement, so a retried batch (same id) is answered with the
 * stored ack and never applied twice. An applied batch's audit line (`audit`)
 * is written in the same transaction: one commit, one fsync.
 */
export async function applyUpload(
  store: SyncStore,
  terminalId: string,
  request: UploadRequest,
  now: number,
  limits: UploadLimits,
  audit?: UploadAudit,
): Promise<UploadOutcome> {
  try {
    return await store.transaction(async (tx) => {
      const outcome = await applyInTx(tx, terminalId, request, now, limits);
      if (audit && outcome.kind === 'applied') {
        await tx.appendAudit(audit({ uploaded: outcome.applied, uploadedBytes: outcome.bytes }));
      }
      return outcome;
    });
  } catch (e) {
    if (e instanceof AckTooLarge) return { kind: 'too-large', ackBytes: e.bytes };
    throw e;
  }
}

async function applyInTx(
  tx: SyncTx,
  terminalId: string,
  request: UploadRequest,
  now: number,
  limits: UploadLimits,
): Promise<UploadOutcome> {
  const terminal = await tx.getTerminal(terminalId);
  const refusal = checkPair(terminal, request.subscriber);
  if (refusal || !terminal) return { kind: 'refused', refusal: refusal ?? 'not-registered', terminal };

  if (terminal.lastBatch !== null && terminal.lastAck !== null) {
    if (request.batch === terminal.lastBatch) {
      const stored = decodeReply(terminal.lastAck);
      if (stored.type === 'upload-ack') return { kind: 'replayed', ack: { ...stored, req: request.req } };
    }
    if (request.batch < terminal.lastBatch) return { kind: 'out-of-order', lastBatch: terminal.lastBatch };
  }

  const previous = await tx.latestSeq(request.subscriber);
  const result = await applyChanges(tx, terminal, request, now, limits);
  const latest = await tx.latestSeq(request.subscriber);
  const ack: UploadAck = { ...result.ack, previous, latest };
  const encoded = encodeReply(ack);
  if (encoded.length > limits.maxAckBytes) throw new AckTooLarge(encoded.length);
  await tx.putTerminal({ ...terminal, lastBatch: request.batch, lastAck: encoded, lastSeenAt: now });
  return { kind: 'applied', ...result, ack, latest };
}

async function applyChanges(
  tx: SyncTx,
  terminal: TerminalRow,
  request: UploadRequest,
  now: number,
  limits: UploadLimits,
): Promise<{
  ack: Omit<UploadAck, 'previous' | 'latest'>;
  changed: Category[];
  applied: number;
  bytes: number;
}> {
  const subscriber = request.subscriber;
  const allowed = new Set(terminal.categories);
  const changed = new Set<Category>();
  const seqs: number[] = [];
  const issues: UploadIssue[] = [];
  let winnerBytes = 0;
  let reasonChars = 0;
  const say = (reason: string): string => {
    reasonChars += reason.length;
    return reasonChars <= limits.maxReasonChars ? reason : '';
  };
  let applied = 0;
  let bytes = 0;

  for (const [index, [code, recordId, base, stamped, sent, wireMeta]] of request.changes.entries()) {
    const editedAt = Math.min(stamped, now + MAX_CLOCK_LEAD_MS);
    const meta = fromWireMeta(wireMeta);
    const category = categoryFromCode(code);
    if (category === undefined || !allowed.has(category)) {
      seqs.push(0);
      issues.push({
        index,
        code: 'rejected',
        reason: say(`category ${category ?? code} is not synced by this terminal`),
      });
      continue;
    }
    const body = wireMeta?.stub
      ? await takeStaged(tx, terminal, category, recordId, sent, wireMeta.stub, now)
      : sent;
    if (typeof body === 'string') {
      seqs.push(0);
      issues.push({
        index,
        code: body === 'missing' ? 'not-staged' : 'rejected',
        reason: say(STAGED_ISSUES[body]),
      });
      continue;
    }
    if (body !== null && body.length > limits.maxRecordBytes) {
      seqs.push(0);
      issues.push({
        index,
        code: 'rejected',
        reason: say(`body of ${body.length} bytes exceeds ${limits.maxRecordBytes}`),
      });
      continue;
    }
    const incoming: UploadedChange = { category, recordId, base, editedAt, body, meta };
    const current = await tx.getRecord(subscriber, category, recordId);
    const resolution = resolve(current, incoming, terminal.terminalId);
    bytes += sent?.length ?? 0;

    if (resolution.kind === 'conflict-lost') {
      seqs.push(0);
      const issue: UploadIssue = {
        index,
        code: 'conflict-lost',
        reason: say('a later edit on another terminal won'),
      };
      if (current && winnerBytes + (current.body?.length ?? 0) <= limits.maxWinnerBytes) {
        winnerBytes += current.body?.length ?? 0;
        issue.winner = toWire(current);
      }
      if (resolution.copy) {
        await tx.putRecord(subscriber, resolution.copy, now);
        issue.copyId = resolution.copy.recordId;
        changed.add(category);
        applied++;
      }
      issues.push(issue);
      continue;
    }

    const seq = await tx.putRecord(
      subscriber,
      { category, recordId, body, origin: terminal.terminalId, editedAt, ...(meta ? { meta } : {}) },
      now,
    );
    seqs.push(seq);
    changed.add(category);
    applied++;
    if (resolution.kind === 'conflict-won') {
      const issue: UploadIssue = {
        index,
        code: 'conflict-won',
        reason: say('edited on another terminal too; this edit is later'),
      };
      if (resolution.copy) {
        await tx.putRecord(subscriber, resolution.copy, now);
        issue.copyId = resolution.copy.recordId;
        applied++;
      }
      issues.push(issue);
    }
  }

  const ack = { type: 'upload-ack' as const, req: request.req, batch: request.batch, seqs, issues };
  return { ack, changed: [...changed], applied, bytes };
}

const STAGED_ISSUES = {
  missing:
    'the body named by its stub is not staged whole on the server (or expired): upload its parts again',
  'not-empty': 'a change naming a staged body by its stub must carry an empty body',
} as const;

/**
 * [0094]: the body a change names by its stub, taken out of staging (in this
 * transaction: a batch rolled back keeps it staged); a reason when there is
 * none to take.
 */
async function takeStaged(
  tx: SyncTx,
  terminal: TerminalRow,
  category: Category,
  recordId: string,
  sent: Uint8Array | null,
  stub: { size: number; hash: Uint8Array },
  now: number,
): Promise<Uint8Array | keyof typeof STAGED_ISSUES> {
  if (sent === null || sent.length > 0) return 'not-empty';
  const key = { terminalId: terminal.terminalId, category, recordId };
  const body = await stagedBody(tx, key, terminal.subscriber, stub, now);
  if (body === undefined) return 'missing';
  await tx.dropStaging(key);
  return body;
}
