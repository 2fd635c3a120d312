import {
  type Category,
  Iccid,
  isCategory,
  isTerminalId,
  normaliseSelection,
  SubscriberId,
} from '../core/protocol/index.js';
import { type AkaAdmin, createAkaAdmin } from './aka-admin.js';
import type { AkaVault } from './aka-vault.js';
import type { Logger } from './logger.js';
import { hashCode, hashPassword, newCode } from './secrets.js';
import { shortSubscriber } from './server-log.js';
import type { Sessions } from './sessions.js';
import type { AuditEntry, SubscriberRow, SyncStore, SyncTx, TerminalRow } from './store/sync-store.js';

export type AdminErrorKind =
  | 'invalid'
  | 'unknown-subscriber'
  | 'unknown-terminal'
  | 'terminal-taken'
  | 'revoked';

/** An operator operation that was refused; nothing changed. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly kind: AdminErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface SubscriberInfo {
  subscriber: string;
  iccid: string | null;
  hasLoginPassword: boolean;
  createdAt: number;
}

export interface TerminalInfo {
  terminalId: string;
  subscriber: string;
  categories: Category[];
  /** False for a shop registration (FIG. 19). */
  hasTerminalPassword: boolean;
  /** False until the terminal has claimed its connection credential. */
  hasCredential: boolean;
  revoked: boolean;
  online: boolean;
  createdAt: number;
  lastSeenAt: number | null;
}

export interface IssuedCode {
  /** Shown once; stored only hashed. */
  code: string;
  expiresAt: number;
}

/** The operator's operations on the subscriber managing database, and on AKA keys (aka-admin.ts). */
export interface Admin extends AkaAdmin {
  /** Creates a subscriber, or updates the ICCID / login password ([0038]) of an existing one. */
  addSubscriber(input: {
    subscriber: string;
    iccid?: string;
    loginPassword?: string;
  }): Promise<SubscriberInfo>;
  /**
   * A one-time registration code for any terminal of the subscriber (default
   * lifetime 24 h), or for one terminal: the operator then vouches for that
   * ID, which may be a new one without a key (terminal-identity.ts).
   */
  issueCode(subscriber: string, ttlMs?: number, terminalId?: string): Promise<IssuedCode>;
  /**
   * FIG. 18/19 shop registration: creates the subscriber/terminal pair with no
   * terminal password, and a one-time code bound to that terminal with which
   * it later claims its credential on the reg channel.
   */
  registerShop(input: {
    terminalId: string;
    subscriber: string;
    iccid?: string;
    categories?: Category[];
    ttlMs?: number;
  }): Promise<IssuedCode>;
  /** Lost or stolen: refuses the terminal from now on and closes its connections. */
  revoke(terminalId: string): Promise<void>;
  listSubscribers(): Promise<SubscriberInfo[]>;
  listTerminals(subscriber?: string): Promise<TerminalInfo[]>;
  /** The subscriber's audit log, oldest first. */
  history(subscriber: string, limit?: number): Promise<AuditEntry[]>;
}

export const DEFAULT_CODE_TTL_MS = 24 * 60 * 60 * 1000;

function validate(input: { subscriber: string; iccid?: string | undefined; terminalId?: string }): void {
  if (!SubscriberId.safeParse(input.subscriber).success)
    throw new AdminError('invalid', 'subscriber ID must be 5–15 digits');
  if (input.iccid !== undefined && !Iccid.safeParse(input.iccid).success) {
    throw new AdminError('invalid', 'ICCID must be 18–20 digits');
  }
  if (input.terminalId !== undefined && !isTerminalId(input.terminalId)) {
    throw new AdminError('invalid', 'terminal ID must be 1–64 of A–Z a–z 0–9 . _ -');
  }
}

function ttl(ms: number | undefined): number {
  const value = ms ?? DEFAULT_CODE_TTL_MS;
  if (!Number.isFinite(value) || value <= 0)
    throw new AdminError('invalid', 'code lifetime must be positive');
  return value;
}

const subscriberInfo = (s: SubscriberRow): SubscriberInfo => ({
  subscriber: s.subscriber,
  iccid: s.iccid,
  hasLoginPassword: s.loginPasswordHash !== null,
  createdAt: s.createdAt,
});

export function createAdmin(deps: {
  store: SyncStore;
  sessions: Sessions;
  logger: Logger;
  now: () => number;
  akaVault?: AkaVault | undefined;
}): Admin {
  const { store, sessions, logger, now } = deps;

  const terminalInfo = (t: TerminalRow): TerminalInfo => ({
    terminalId: t.terminalId,
    subscriber: t.subscriber,
    categories: t.categories,
    hasTerminalPassword: t.passwordHash !== null,
    hasCredential: t.credentialHash !== null,
    revoked: t.revoked,
    online: sessions.isOnline(t.terminalId),
    createdAt: t.createdAt,
    lastSeenAt: t.lastSeenAt,
  });

  async function putCode(tx: SyncTx, subscriber: string, terminalId: string | null, ttlMs: number) {
    const code = newCode();
    const at = now();
    const expiresAt = at + ttlMs;
    await tx.putCode({
      codeHash: hashCode(code),
      subscriber,
      terminalId,
      createdAt: at,
      expiresAt,
      usedAt: null,
    });
    return { code, expiresAt };
  }

  return {
    ...createAkaAdmin({ store, vault: deps.akaVault, logger, now }),
    async addSubscriber(input) {
      validate(input);
      const loginPasswordHash =
        input.loginPassword === undefined ? undefined : await hashPassword(input.loginPassword);
      const row = await store.transaction(async (tx) => {
        const existing = await tx.getSubscriber(input.subscriber);
        const next: SubscriberRow = {
          subscriber: input.subscriber,
          iccid: input.iccid ?? existing?.iccid ?? null,
          loginPasswordHash: loginPasswordHash ?? existing?.loginPasswordHash ?? null,
          createdAt: existing?.createdAt ?? now(),
        };
        await tx.putSubscriber(next);
        return next;
      });
      logger.info({ subscriber: shortSubscriber(input.subscriber) }, 'subscriber saved');
      return subscriberInfo(row);
    },

    async issueCode(subscriber, ttlMs, terminalId) {
      const lifetime = ttl(ttlMs);
      if (terminalId !== undefined && !isTerminalId(terminalId))
        throw new AdminError('invalid', `not a terminal ID: ${terminalId}`);
      return store.transaction(async (tx) => {
        if (!(await tx.getSubscriber(subscriber)))
          throw new AdminError('unknown-subscriber', `no subscriber ${subscriber}`);
        return putCode(tx, subscriber, terminalId ?? null, lifetime);
      });
    },

    async registerShop(input) {
      validate(input);
      const lifetime = ttl(input.ttlMs);
      const bad = input.categories?.find((c) => !isCategory(c));
      if (bad !== undefined) throw new AdminError('invalid', `unknown category ${String(bad)}`);
      const categories = input.categories ? normaliseSelection(input.categories) : undefined;
      return store.transaction(async (tx) => {
        const at = now();
        const subscriber = await tx.getSubscriber(input.subscriber);
        if (!subscriber || (input.iccid !== undefined && input.iccid !== subscriber.iccid)) {
          await tx.putSubscriber({
            subscriber: input.subscriber,
            iccid: input.iccid ?? subscriber?.iccid ?? null,
            loginPasswordHash: subscriber?.loginPasswordHash ?? null,
            createdAt: subscriber?.createdAt ?? at,
          });
        }
        const existing = await tx.getTerminal(input.terminalId);
        if (existing?.revoked) throw new AdminError('revoked', `terminal ${input.terminalId} was revoked`);
        if (existing && existing.subscriber !== input.subscriber) {
          throw new AdminError(
            'terminal-taken',
            `terminal ${input.terminalId} is registered to another subscriber`,
          );
        }
        await tx.putTerminal(
          existing
            ? { ...existing, categories: categories ?? existing.categories }
            : {
                terminalId: input.terminalId,
                subscriber: input.subscriber,
                passwordHash: null,
                categories: categories ?? [],
                credentialHash: null,
                revoked: false,
                createdAt: at,
                lastSeenAt: null,
                lastBatch: null,
                lastAck: null,
              },
        );
        logger.info(
          { subscriber: shortSubscriber(input.subscriber), terminalId: input.terminalId },
          'shop registration',
        );
        return putCode(tx, input.subscriber, input.terminalId, lifetime);
      });
    },

    async revoke(terminalId) {
      const terminal = await store.transaction(async (tx) => {
        const t = await tx.getTerminal(terminalId);
        if (!t) throw new AdminError('unknown-terminal', `no terminal ${terminalId}`);
        await tx.putTerminal({ ...t, revoked: true });
        await tx.appendAudit({
          at: now(),
          subscriber: t.subscriber,
          terminalId,
          terminalOwner: null,
          action: 'revoke',
          outcome: 'accepted',
          reason: 'revoked by the operator',
          uploaded: 0,
          uploadedBytes: 0,
          downloaded: 0,
          downloadedBytes: 0,
        });
        return t;
      });
      const closed = sessions.kick(terminalId);
      logger.info(
        { terminalId, subscriber: shortSubscriber(terminal.subscriber), closed },
        'terminal revoked',
      );
    },

    listSubscribers: async () => (await store.listSubscribers()).map(subscriberInfo),
    listTerminals: async (subscriber) => (await store.listTerminals(subscriber)).map(terminalInfo),
    history: (subscriber, limit) => store.history(subscriber, limit),
  };
}
