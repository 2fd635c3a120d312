import { randomUUID } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import {
  downTopic,
  parseRegReplyTopic,
  parseUsername,
  SubscriberId,
  upTopic,
} from '../core/protocol/index.js';
import { type AttemptLimiter, InFlight } from './attempt-limits.js';
import { sourceAddress } from './listeners.js';
import type { Logger } from './logger.js';
import { dummyVerify, hashCode, sameDigest, sha256, verifyPassword } from './secrets.js';
import { type ServerLog, shortSubscriber } from './server-log.js';
import type { Session, Sessions } from './sessions.js';
import type { AuditEntry, SyncStore } from './store/sync-store.js';
import { codeUsable, type RegSecret } from './sync/register.js';

/**
 * CONNACK return codes of MQTT 3.1.1 §3.2.2.3 that a refusal may carry: 3
 * when the server will not check now (attempt limits, an internal error: try
 * again later), 4 for a wrong secret, 5 for a proven one that may not connect
 * (revoked, registered to another subscriber). A terminal closes its local
 * data on 4 and 5 (core/engine/local-access.ts), never on 3.
 */
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

class Refusal extends Error {
  constructor(
    readonly returnCode: 3 | 4 | 5,
    reason: string,
    readonly failure: AuthFailureReason,
    /** Written to the audit log when the subscriber is known. */
    readonly audit?: Pick<AuditEntry, 'subscriber' | 'terminalId' | 'terminalOwner'>,
  ) {
    super(reason);
  }
}

/** Why a CONNECT was refused, as counted in `simsync_auth_failures_total{reason}`. */
export type AuthFailureReason =
  | 'malformed'
  | 'unknown-subscriber'
  | 'bad-secret'
  | 'bad-credential'
  | 'revoked'
  | 'taken'
  | 'throttled'
  | 'unavailable';

export interface AccessDeps {
  store: SyncStore;
  sessions: Sessions;
  logger: Logger;
  /** The operator's lines: connections and refusals. */
  log: ServerLog;
  now: () => number;
  /** Attempt limits per source address and per subscriber (attempt-limits.ts). */
  limiter: AttemptLimiter;
  /** Slow (password-hashing) checks one address or subscriber may have running at once. */
  maxConcurrent: number;
  /** Told of every refused CONNECT (metrics). */
  onAuthFailure?: (reason: AuthFailureReason) => void;
}

async function authenticateTerminal(
  deps: AccessDeps,
  terminalId: string,
  password: string,
): Promise<Session> {
  const terminal = await deps.store.getTerminal(terminalId);
  if (!terminal?.credentialHash || !sameDigest(sha256(password), terminal.credentialHash)) {
    throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'unknown terminal or wrong credential', 'bad-credential');
  }
  const who = { subscriber: terminal.subscriber, terminalId, terminalOwner: null };
  if (terminal.revoked) throw new Refusal(NOT_AUTHORIZED, 'revoked', 'revoked', who);
  await deps.store.touchTerminal(terminalId, deps.now());
  return {
    channel: 't',
    terminalId,
    subscriber: terminal.subscriber,
    secret: null,
    replyTopic: downTopic(terminalId, 't'),
  };
}

/** reg:<terminalId> with password `<subscriberId>:<login password or one-time code>` ([0038], FIG. 19). */
async function authenticateRegistration(
  deps: AccessDeps,
  terminalId: string,
  password: string,
): Promise<Session> {
  const colon = password.indexOf(':');
  const subscriberId = password.slice(0, colon);
  const secret = password.slice(colon + 1);
  if (colon < 0 || !SubscriberId.safeParse(subscriberId).success || secret.length === 0) {
    throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'password must be <subscriberId>:<secret>', 'malformed');
  }
  await throttle(deps, [`sub:${subscriberId}`]);
  const subscriber = await deps.store.getSubscriber(subscriberId);
  const codeHash = hashCode(secret);
  const code = subscriber ? await deps.store.getCode(codeHash) : undefined;
  const reg = (proof: RegSecret): Session => ({
    channel: 'reg',
    terminalId,
    subscriber: subscriberId,
    secret: proof,
    replyTopic: null,
  });
  let session: Session | undefined;
  if (subscriber && codeUsable(code, subscriberId, terminalId, deps.now())) {
    session = reg({ kind: 'code', codeHash });
  } else if (subscriber?.loginPasswordHash) {
    if (await verifyPassword(secret, subscriber.loginPasswordHash)) session = reg({ kind: 'login-password' });
  } else {
    // Unknown subscriber, or one with codes only: the same slow hash, so the
    // answer's timing does not tell which IMSIs exist.
    await dummyVerify(secret);
  }
  if (!subscriber) throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'unknown subscriber', 'unknown-subscriber');
  const who = { subscriber: subscriberId, terminalId, terminalOwner: null };
  if (!session) throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'bad-secret', 'bad-secret', who);

  const terminal = await deps.store.getTerminal(terminalId);
  if (terminal?.revoked)
    throw new Refusal(NOT_AUTHORIZED, 'revoked', 'revoked', { ...who, terminalOwner: terminal.subscriber });
  if (terminal && terminal.subscriber !== subscriberId) {
    throw new Refusal(NOT_AUTHORIZED, 'terminal registered to another subscriber', 'taken', {
      ...who,
      terminalOwner: terminal.subscriber,
    });
  }
  await deps.limiter.succeed(`sub:${subscriberId}`);
  return session;
}

/** Refuses at once, before any secret is checked, while one of the keys must wait. */
async function throttle(deps: AccessDeps, keys: string[]): Promise<void> {
  const now = deps.now();
  for (const key of keys) {
    const wait = await deps.limiter.waitMs(key, now);
    if (wait > 0) {
      throw new Refusal(
        SERVER_UNAVAILABLE,
        `too many failed attempts: retry in ${Math.ceil(wait / 1000)} s`,
        'throttled',
      );
    }
  }
}

/** Refusals that are wrong guesses; the others came after the secret was proven. */
const GUESSES: ReadonlySet<AuthFailureReason> = new Set([
  'malformed',
  'unknown-subscriber',
  'bad-secret',
  'bad-credential',
]);

/** Counts a wrong guess against its keys; a lockout that starts goes to the audit log. */
async function countFailure(deps: AccessDeps, keys: string[], refusal: Refusal): Promise<void> {
  if (!GUESSES.has(refusal.failure)) return;
  const now = deps.now();
  for (const key of keys) {
    const outcome = await deps.limiter.fail(key, now);
    if (!outcome.lockedOut) continue;
    const shown = key.startsWith('sub:') ? `sub:${shortSubscriber(key.slice(4))}` : key;
    deps.logger.warn(
      { key: shown, failures: outcome.failures },
      `locked out ${shown} after ${outcome.failures} failed attempts`,
    );
    const until = new Date(outcome.blockedUntil).toISOString();
    await appendConnect(deps, 'refused', {
      subscriber: key.startsWith('sub:') ? key.slice(4) : (refusal.audit?.subscriber ?? null),
      terminalId: refusal.audit?.terminalId ?? null,
      terminalOwner: null,
      reason: `locked-out: ${outcome.failures} failed attempts from ${key} until ${until}`,
    });
  }
}

/** Appends a CONNECT's line to the audit log: nothing moves at CONNECT. */
async function appendConnect(
  deps: AccessDeps,
  outcome: AuditEntry['outcome'],
  who: Pick<AuditEntry, 'subscriber' | 'terminalId' | 'terminalOwner' | 'reason'>,
): Promise<void> {
  await deps.store.appendAudit({
    ...who,
    at: deps.now(),
    action: 'connect',
    outcome,
    uploaded: 0,
    uploadedBytes: 0,
    downloaded: 0,
    downloadedBytes: 0,
  });
}

/** The line of an accepted CONNECT: who, and on reg how it proved itself ([0038], FIG. 19). */
function auditAccepted(deps: AccessDeps, session: Session): Promise<void> {
  const proof = session.secret?.kind === 'code' ? 'reg: one-time code' : 'reg: login password';
  const { subscriber, terminalId } = session;
  const reason = session.channel === 'reg' ? proof : null;
  return appendConnect(deps, 'accepted', { subscriber, terminalId, terminalOwner: null, reason });
}

/** The line of a refused CONNECT whose subscriber is known. */
async function audit(deps: AccessDeps, refusal: Refusal): Promise<void> {
  if (refusal.audit) await appendConnect(deps, 'refused', { ...refusal.audit, reason: refusal.message });
}

/**
 * The Aedes hooks: who may connect, and the per-terminal topic ACL
 * (DESIGN.md "Wire": a terminal can only publish/subscribe its own topics).
 */
export function accessHooks(
  deps: AccessDeps,
): Required<
  Pick<
    AedesOptions,
    'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
  >
> {
  const { sessions, logger } = deps;
  const inFlight = new InFlight(deps.maxConcurrent);
  /** A registration CONNECT hashes a password: its keys may run only so many at once. */
  const bounded = async (keys: string[], check: () => Promise<Session>): Promise<Session> => {
    if (!inFlight.enter(keys)) {
      throw new Refusal(SERVER_UNAVAILABLE, 'too many attempts at once', 'throttled');
    }
    try {
      return await check();
    } finally {
      inFlight.leave(keys);
    }
  };
  return {
    preConnect(_client, packet, done) {
      // Wills are not part of the protocol: a will could publish after the terminal is gone.
      packet.will = undefined;
      // Sessions are clean: requests are answered while connected and notices go
      // only to terminals online ([0044]), so nothing needs queueing, and Aedes
      // never expires a persistent session by itself.
      packet.clean = true;
      // Client IDs are scoped by username, so no credential can take over or
      // kick another terminal's session ([MQTT-3.1.4-2] takeover by client ID).
      // Registration connections are anyone's who saw the terminal ID: each
      // gets an ID of its own, so none can kick another.
      const own = packet.username?.startsWith('reg:') ? `/${randomUUID()}` : '';
      if (packet.clientId) packet.clientId = `${packet.username ?? ''}/${packet.clientId}${own}`;
      done(null, true);
    },

    authenticate(client, username, password, done) {
      const parsed = parseUsername(username);
      const secret = password?.toString('utf8') ?? '';
      // Failures count against the source address and, on reg, the subscriber
      // named; a terminal's own ID is no key, or anyone who saw it could lock it out.
      const from = sourceAddress(client.conn);
      const keys = [`addr:${from}`];
      const subscriberId = parsed?.channel === 'reg' ? secret.slice(0, secret.indexOf(':')) : '';
      if (SubscriberId.safeParse(subscriberId).success) keys.push(`sub:${subscriberId}`);
      const attempt: Promise<Session> =
        parsed === undefined || secret.length === 0
          ? Promise.reject(
              new Refusal(BAD_USERNAME_OR_PASSWORD, 'anonymous or unknown username', 'malformed'),
            )
          : throttle(deps, keys.slice(0, 1)).then(() =>
              parsed.channel === 't'
                ? authenticateTerminal(deps, parsed.terminalId, secret)
                : bounded(keys, () => authenticateRegistration(deps, parsed.terminalId, secret)),
            );
      attempt.then(
        (session) => {
          deps.log.connected(session, from);
          sessions.attach(client, session);
          // Audited before the CONNACK; a failed audit never keeps a proven terminal out.
          auditAccepted(deps, session)
            .catch((err: unknown) => logger.error({ err, terminalId: session.terminalId }, 'audit failed'))
            .finally(() => done(null, true));
        },
        (e: unknown) => {
          const refusal =
            e instanceof Refusal ? e : new Refusal(SERVER_UNAVAILABLE, 'internal error', 'unavailable');
          const failed = e instanceof Refusal ? undefined : e;
          deps.log.refusedConnect(parsed, from, refusal.message, refusal.returnCode, failed);
          deps.onAuthFailure?.(refusal.failure);
          // A throttled attempt is not audited one by one (a flood would fill the
          // log); the lockout that caused it was.
          const error = Object.assign(new Error(refusal.message), {
            returnCode: refusal.returnCode,
          }) as AuthenticateError;
          if (refusal.failure === 'throttled') return done(error, false);
          // The failure is counted before the answer goes out, so the next
          // attempt (from anywhere in a cluster) already sees it.
          Promise.all([countFailure(deps, keys, refusal), audit(deps, refusal)])
            .catch((err: unknown) => logger.error({ err }, 'counting a failed attempt failed'))
            .finally(() => done(error, false));
        },
      );
    },

    authorizeSubscribe(client, sub, done) {
      const session = sessions.of(client);
      const allowed =
        session?.channel === 't'
          ? sub.topic === session.replyTopic
          : session?.channel === 'reg' &&
            parseRegReplyTopic(sub.topic)?.terminalId === session.terminalId &&
            sessions.bindReplyTopic(client, sub.topic);
      if (!allowed) {
        deps.log.refusedTopic(session, 'subscribe to', sub.topic);
        done(null, null);
        return;
      }
      done(null, sub);
    },

    authorizePublish(client, packet, done) {
      const session = sessions.of(client);
      if (session && !packet.retain && packet.topic === upTopic(session.terminalId, session.channel)) {
        done(null);
        return;
      }
      deps.log.refusedTopic(session, packet.retain ? 'publish retained to' : 'publish to', packet.topic);
      done(new Error('publish not authorized'));
    },

    authorizeForward(client: Client, packet) {
      // Defence in depth: whatever the subscriptions, a client only ever
      // receives its own reply topic (on reg, the one it bound itself).
      const session = sessions.of(client);
      return session?.replyTopic != null && packet.topic === session.replyTopic ? packet : null;
    },
  };
}
