import { keyProvesTerminalId, normaliseSelection, type RegisterRequest } from '../../core/protocol/index.js';
import { hashPassword, newCredential, sha256 } from '../secrets.js';
import type { CodeRow, SyncStore } from '../store/sync-store.js';

/** How the reg connection proved itself at CONNECT. */
export type RegSecret = { kind: 'login-password' } | { kind: 'code'; codeHash: string };

export type RegisterOutcome =
  | { kind: 'registered'; credential: string; categories: RegisterRequest['categories'] }
  | {
      kind: 'refused';
      code: 'not-registered' | 'revoked' | 'bad-secret' | 'unproven-terminal';
      reason: string;
    };

/** Can this code open the reg channel of this terminal for this subscriber now? */
export function codeUsable(
  code: CodeRow | undefined,
  subscriber: string,
  terminalId: string,
  now: number,
): boolean {
  return (
    code !== undefined &&
    code.subscriber === subscriber &&
    code.usedAt === null &&
    now < code.expiresAt &&
    (code.terminalId === null || code.terminalId === terminalId)
  );
}

/**
 * FIG. 8 S5–S6 (and FIG. 19 for a shop-registered terminal claiming its
 * credential): creates or updates the terminal's entry in the subscriber
 * managing database and gives it a new connection credential, replacing any
 * old one. A one-time code is consumed in the same transaction, on success only.
 */
export async function registerTerminal(
  store: SyncStore,
  terminalId: string,
  secret: RegSecret,
  request: RegisterRequest,
  now: number,
): Promise<RegisterOutcome> {
  const passwordHash =
    request.terminalPassword === undefined ? undefined : await hashPassword(request.terminalPassword);
  const credential = newCredential();
  const categories = normaliseSelection(request.categories);
  const keyProven =
    request.terminalKey !== undefined && (await keyProvesTerminalId(request.terminalKey, terminalId));

  return store.transaction(async (tx): Promise<RegisterOutcome> => {
    const subscriber = await tx.getSubscriber(request.subscriber);
    if (!subscriber) return { kind: 'refused', code: 'not-registered', reason: 'unknown subscriber' };
    const existing = await tx.getTerminal(terminalId);
    if (existing?.revoked) return { kind: 'refused', code: 'revoked', reason: 'this terminal was revoked' };
    if (existing && existing.subscriber !== request.subscriber) {
      return {
        kind: 'refused',
        code: 'not-registered',
        reason: 'this terminal is registered to another subscriber',
      };
    }
    const code = secret.kind === 'code' ? await tx.getCode(secret.codeHash) : undefined;
    // A terminal ID is taken only by its own terminal (the key it commits to),
    // or by the operator who bound a code to it (FIG. 19): whoever merely saw
    // the ID cannot claim it first (terminal-identity.ts).
    if (!existing && !keyProven && !(code?.terminalId === terminalId)) {
      return {
        kind: 'refused',
        code: 'unproven-terminal',
        reason: 'a new terminal must show the key its terminal ID was made from',
      };
    }
    if (secret.kind === 'code') {
      if (!code || !codeUsable(code, request.subscriber, terminalId, now)) {
        return {
          kind: 'refused',
          code: 'bad-secret',
          reason: 'the one-time code is used, expired or not for this terminal',
        };
      }
      await tx.putCode({ ...code, usedAt: now });
    }
    if (request.iccid !== undefined && request.iccid !== subscriber.iccid) {
      await tx.putSubscriber({ ...subscriber, iccid: request.iccid });
    }
    await tx.putTerminal({
      terminalId,
      subscriber: request.subscriber,
      passwordHash: passwordHash ?? existing?.passwordHash ?? null,
      categories,
      credentialHash: sha256(credential),
      revoked: false,
      createdAt: existing?.createdAt ?? now,
      lastSeenAt: now,
      // A (re)registered terminal starts its batch ids afresh.
      lastBatch: null,
      lastAck: null,
      ...(existing?.filters ? { filters: existing.filters } : {}),
    });
    return { kind: 'registered', credential, categories };
  });
}
