import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { downTopic, parseUsername, SubscriberId, upTopic } from '../core/protocol/index.js';
import type { Logger } from './logger.js';
import { hashCode, sameDigest, sha256, verifyPassword } from './secrets.js';
import type { Session, Sessions } from './sessions.js';
import type { AuditEntry, SyncStore } from './store/sync-store.js';
import { codeUsable } from './sync/register.js';

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3 that a refusal may carry. */
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

class Refusal extends Error {
  constructor(
    readonly returnCode: 4 | 5,
    reason: string,
    /** Written to the audit log when the subscriber is known. */
    readonly audit?: Pick<AuditEntry, 'subscriber' | 'terminalId' | 'terminalOwner'>,
  ) {
    super(reason);
  }
}

export interface AccessDeps {
  store: SyncStore;
  sessions: Sessions;
  logger: Logger;
  now: () => number;
}

async function authenticateTerminal(
  deps: AccessDeps,
  terminalId: string,
  password: string,
): Promise<Session> {
  const terminal = await deps.store.getTerminal(terminalId);
  if (!terminal?.credentialHash || !sameDigest(sha256(password), terminal.credentialHash)) {
    throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'unknown terminal or wrong credential');
  }
  const who = { subscriber: terminal.subscriber, terminalId, terminalOwner: null };
  if (terminal.revoked) throw new Refusal(NOT_AUTHORIZED, 'revoked', who);
  await deps.store.touchTerminal(terminalId, deps.now());
  return { channel: 't', terminalId, subscriber: terminal.subscriber, secret: null };
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
    throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'password must be <subscriberId>:<secret>');
  }
  const subscriber = await deps.store.getSubscriber(subscriberId);
  if (!subscriber) throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'unknown subscriber');

  const codeHash = hashCode(secret);
  const code = await deps.store.getCode(codeHash);
  let session: Session | undefined;
  if (codeUsable(code, subscriberId, terminalId, deps.now())) {
    session = { channel: 'reg', terminalId, subscriber: subscriberId, secret: { kind: 'code', codeHash } };
  } else if (subscriber.loginPasswordHash && (await verifyPassword(secret, subscriber.loginPasswordHash))) {
    session = { channel: 'reg', terminalId, subscriber: subscriberId, secret: { kind: 'login-password' } };
  }
  const who = { subscriber: subscriberId, terminalId, terminalOwner: null };
  if (!session) throw new Refusal(BAD_USERNAME_OR_PASSWORD, 'bad-secret', who);

  const terminal = await deps.store.getTerminal(terminalId);
  if (terminal?.revoked)
    throw new Refusal(NOT_AUTHORIZED, 'revoked', { ...who, terminalOwner: terminal.subscriber });
  if (terminal && terminal.subscriber !== subscriberId) {
    throw new Refusal(NOT_AUTHORIZED, 'terminal registered to another subscriber', {
      ...who,
      terminalOwner: terminal.subscriber,
    });
  }
  return session;
}

async function audit(deps: AccessDeps, refusal: Refusal): Promise<void> {
  if (!refusal.audit) return;
  await deps.store.appendAudit({
    ...refusal.audit,
    at: deps.now(),
    action: 'connect',
    outcome: 'refused',
    reason: refusal.message,
    uploaded: 0,
    uploadedBytes: 0,
    downloaded: 0,
    downloadedBytes: 0,
  });
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
      if (packet.clientId) packet.clientId = `${packet.username ?? ''}/${packet.clientId}`;
      done(null, true);
    },

    authenticate(client, username, password, done) {
      const parsed = parseUsername(username);
      const secret = password?.toString('utf8') ?? '';
      const attempt: Promise<Session> =
        parsed === undefined || secret.length === 0
          ? Promise.reject(new Refusal(BAD_USERNAME_OR_PASSWORD, 'anonymous or unknown username'))
          : parsed.channel === 't'
            ? authenticateTerminal(deps, parsed.terminalId, secret)
            : authenticateRegistration(deps, parsed.terminalId, secret);
      attempt.then(
        (session) => {
          sessions.attach(client, session);
          logger.debug({ terminalId: session.terminalId, channel: session.channel }, 'connected');
          done(null, true);
        },
        (e: unknown) => {
          const refusal = e instanceof Refusal ? e : new Refusal(NOT_AUTHORIZED, 'internal error');
          if (!(e instanceof Refusal)) logger.error({ err: e, username }, 'authenticate failed');
          logger.info(
            { username, reason: refusal.message, returnCode: refusal.returnCode },
            'connect refused',
          );
          audit(deps, refusal).catch((err: unknown) => logger.error({ err }, 'audit failed'));
          const error = Object.assign(new Error(refusal.message), {
            returnCode: refusal.returnCode,
          }) as AuthenticateError;
          done(error, false);
        },
      );
    },

    authorizeSubscribe(client, sub, done) {
      const session = sessions.of(client);
      if (!session || sub.topic !== downTopic(session.terminalId, session.channel)) {
        logger.warn({ clientId: client.id, topic: sub.topic }, 'subscribe refused');
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
      logger.warn({ clientId: client?.id, topic: packet.topic, retain: packet.retain }, 'publish refused');
      done(new Error('publish not authorized'));
    },

    authorizeForward(client: Client, packet) {
      // Defence in depth: whatever the subscriptions, a client only ever receives its own down topic.
      const session = sessions.of(client);
      return session && packet.topic === downTopic(session.terminalId, session.channel) ? packet : null;
    },
  };
}
