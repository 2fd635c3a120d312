import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import { encodeReply, MAX_MESSAGE_BYTES, parseTopic, type Reply, wrap } from '../core/protocol/index.js';
import { type AuthFailureReason, accessHooks } from './access.js';
import { type Admin, createAdmin } from './admin.js';
import { AuthenticationCentre } from './aka-auc.js';
import type { AkaVault } from './aka-vault.js';
import {
  type AttemptLimiter,
  type AttemptLimitSettings,
  DEFAULT_ATTEMPT_LIMITS,
  MemoryAttemptLimiter,
} from './attempt-limits.js';
import { connectCluster } from './cluster.js';
import { RequestRouter } from './handlers/index.js';
import {
  acceptStream,
  type Listener,
  listenTcp,
  listenTls,
  listenWs,
  type TlsOptions,
  type WsOptions,
} from './listeners.js';
import { type Logger, silentLogger } from './logger.js';
import { nodeDeflate } from './node-deflate.js';
import { budgetKey, budgetOf } from './request-budget.js';
import { ServerLog } from './server-log.js';
import { Sessions } from './sessions.js';
import type { SyncStore } from './store/sync-store.js';
import { DEFAULT_MAX_RECORD_BYTES } from './sync/staging.js';

export interface SyncServerOptions {
  store: SyncStore;
  /** Interface to bind; default all. */
  host?: string;
  /** Every connection opens with a PROXY protocol header from a load balancer (listeners.ts). */
  proxyProtocol?: boolean;
  /** Plain MQTT over TCP: default 1883, 0 = an ephemeral port, null = none. */
  port?: number | null;
  /** MQTT over TLS, on its own port. */
  tls?: TlsOptions;
  /** MQTT over WebSocket, on its own port (`true` = defaults). */
  ws?: WsOptions | boolean;
  /** Default: silent. */
  logger?: Logger;
  /** Largest request payload served (default MAX_MESSAGE_BYTES); larger ones get a `too-large` error. */
  maxMessageBytes?: number;
  /**
   * Largest MQTT packet (remaining length) before the connection is closed
   * (default: the larger of maxMessageBytes and MAX_MESSAGE_BYTES, + 64 KiB).
   * Any message a terminal may send (MAX_MESSAGE_BYTES) is answered, a
   * larger one than this server serves with `too-large`, so the terminal
   * can shrink its batches and parts to fit; only packets no terminal sends
   * close the connection before they are buffered.
   */
  maxPacketBytes?: number;
  /** Largest record body accepted in an upload, inline or in parts ([0094] upload-part; default 255 MiB). */
  maxRecordBytes?: number;
  /** The clock (ms since the epoch); default Date.now. */
  now?: () => number;
  /** Limits on failed CONNECTs per source address and subscriber (attempt-limits.ts defaults), or a shared limiter. */
  attemptLimits?: Partial<AttemptLimitSettings> | AttemptLimiter;
  /** Told of every refused CONNECT, by reason (metrics: simsync_auth_failures_total). */
  onAuthFailure?: (reason: AuthFailureReason) => void;
  /** How often revocations made by other processes (simsync admin) are picked up; default 250 ms. */
  revocationPollMs?: number;
  /**
   * Redis URL: run as one of several broker processes (cluster.ts): fan-out,
   * sessions and attempt limits in Redis; the store must be shared too (PostgreSQL).
   */
  redis?: string;
  /**
   * The server keys AKA card keys are sealed under (aka-vault.ts). Without
   * them, subscribers with an AKA key cannot be challenged (their syncs are
   * refused 'internal' and the log says why), and none can be set.
   */
  akaVault?: AkaVault;
}

export interface SyncServer {
  /** The bound TCP port, or null when plain TCP is off. */
  port: number | null;
  tlsPort?: number;
  wsPort?: number;
  admin: Admin;
  store: SyncStore;
  broker: Aedes;
  /**
   * Serves a connection opened in this process (an in-memory pipe: a
   * simulation's radio link) as a plain TCP connection from `remoteAddress`
   * would be served, through the same guards (listeners.ts `acceptStream`).
   * After `close` the connection is destroyed at once.
   */
  accept(conn: Duplex, remoteAddress: string): void;
  /** Stops listening, closes every connection and waits for requests in flight. The store stays open. */
  close(): Promise<void>;
}

/** Starts the sync server (DESIGN.md "Layers": broker/). */
export async function startSyncServer(options: SyncServerOptions): Promise<SyncServer> {
  const { store } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const maxPacketBytes = options.maxPacketBytes ?? Math.max(maxMessageBytes, MAX_MESSAGE_BYTES) + 64 * 1024;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const log = new ServerLog(logger, now);
  const sessions = new Sessions((session) => log.disconnected(session));

  let broker: Aedes | undefined;
  const publish = async (topic: string, reply: Reply, compress = false) => {
    // Compressed only for a connection that said it reads compressed payloads (core/protocol/envelope.ts).
    const wrapped = await wrap(encodeReply(reply), { compress, envelope: false, codec: nodeDeflate });
    return new Promise<void>((resolve, reject) => {
      if (!broker) return reject(new Error('broker not started'));
      // The reply's own bytes, not a copy (a substance reply is most of a MiB).
      const payload = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
      broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  };

  const auc = new AuthenticationCentre(store, options.akaVault, now);
  const router = new RequestRouter({
    store,
    auc,
    sessions,
    logger,
    log,
    now,
    publish,
    clustered: options.redis !== undefined,
    // An ack must fit in one message: winners may fill half of it, reasons an eighth.
    limits: {
      maxMessageBytes,
      maxRecordBytes,
      maxWinnerBytes: Math.floor(maxMessageBytes / 2),
      maxReasonChars: Math.floor(maxMessageBytes / 8),
      maxAckBytes: maxMessageBytes,
    },
  });

  const settings = options.attemptLimits && !('waitMs' in options.attemptLimits) ? options.attemptLimits : {};
  const cluster = options.redis ? await connectCluster(options.redis, settings, logger) : undefined;
  const limiter =
    options.attemptLimits && 'waitMs' in options.attemptLimits
      ? options.attemptLimits
      : (cluster?.limiter ?? new MemoryAttemptLimiter(settings));
  const maxConcurrent =
    options.attemptLimits && !('waitMs' in options.attemptLimits)
      ? (options.attemptLimits.maxConcurrent ?? DEFAULT_ATTEMPT_LIMITS.maxConcurrent)
      : DEFAULT_ATTEMPT_LIMITS.maxConcurrent;
  broker = await Aedes.createBroker({
    ...(cluster ? { mq: cluster.mq, persistence: cluster.persistence } : {}),
    ...accessHooks({
      store,
      sessions,
      logger,
      log,
      now,
      limiter,
      maxConcurrent,
      ...(options.onAuthFailure ? { onAuthFailure: options.onAuthFailure } : {}),
    }),
    // MQTT 3.1 caps client IDs at 23 characters; ours carry the username as a
    // prefix, and a registration connection's a UUID as a suffix.
    maxClientsIdLength: 23 + 'reg:'.length + 64 + 1 + 1 + 36,
    // Requests are served from here: the hook sees the publishing client, and
    // holding its callback until the reply is out keeps one client from
    // queueing requests faster than they are served.
    published(packet, client, done) {
      const session = sessions.of(client);
      if (!session || parseTopic(packet.topic)?.direction !== 'up') return done(null);
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      // One request per terminal at a time, held back while its refused-work
      // budget is spent (request-budget.ts); one gone while held is not served.
      budgetOf(sessions, maxMessageBytes)
        .run(budgetKey(session), payload.length, () =>
          client.closed ? Promise.resolve() : router.enqueue(session, payload, () => client.close()),
        )
        .then(
          () => done(null),
          (error: unknown) => {
            // The router answers every request itself; what reaches here is a bug, logged, and the client freed.
            logger.error({ terminalId: session.terminalId, err: String(error) }, 'request not served');
            done(null);
          },
        );
    },
  });
  // Named by the session, never by client ID: that starts with the username, which may be a mistyped password.
  broker.on('clientError', (client, err) =>
    logger.debug({ terminalId: sessions.of(client)?.terminalId, err: err.message }, 'client error'),
  );
  broker.on('connectionError', (_client, err) => logger.debug({ err: err.message }, 'connection error'));

  const deps = {
    host: options.host,
    maxPacketBytes,
    logger,
    handle: broker.handle,
    proxyProtocol: options.proxyProtocol ?? false,
  };
  const listeners: Listener[] = [];
  try {
    const tcp = options.port === null ? null : await listenTcp(deps, options.port ?? 1883);
    if (tcp) listeners.push(tcp);
    const tls = options.tls ? await listenTls(deps, options.tls) : undefined;
    if (tls) listeners.push(tls);
    const ws = options.ws ? await listenWs(deps, options.ws === true ? {} : options.ws) : undefined;
    if (ws) listeners.push(ws);

    const aedes = broker;
    let closed = false;
    const revocations = await watchRevocations(store, sessions, logger, options.revocationPollMs ?? 250);
    logger.info({ port: tcp?.port, tlsPort: tls?.port, wsPort: ws?.port }, 'sync server listening');
    return {
      port: tcp?.port ?? null,
      ...(tls ? { tlsPort: tls.port } : {}),
      ...(ws ? { wsPort: ws.port } : {}),
      admin: createAdmin({ store, sessions, logger, now, akaVault: options.akaVault }),
      store,
      broker: aedes,
      accept(conn, remoteAddress) {
        if (closed) conn.destroy();
        else acceptStream(deps, conn, { transport: 'memory', remoteAddress });
      },
      async close() {
        closed = true;
        revocations.stop();
        const stopped = Promise.all(listeners.map((l) => l.close()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await stopped;
        await router.idle();
        log.close();
        await cluster?.close();
      },
    };
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    await new Promise<void>((resolve) => broker?.close(() => resolve()));
    await cluster?.close();
    throw e;
  }
}

/**
 * Picks up revocations written to the store by other processes (`simsync
 * admin revoke`, another server of a cluster) and closes the revoked
 * terminals' connections held here.
 */
async function watchRevocations(
  store: SyncStore,
  sessions: Sessions,
  logger: Logger,
  everyMs: number,
): Promise<{ stop(): void }> {
  let cursor = (await store.revokedSince(null)).cursor;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    store
      .revokedSince(cursor)
      .then((found) => {
        cursor = found.cursor;
        for (const terminalId of found.terminalIds) {
          const closed = sessions.kick(terminalId);
          if (closed > 0) logger.info({ terminalId, closed }, 'revoked terminal disconnected');
        }
      })
      .catch((err: unknown) => logger.error({ err }, 'revocation poll failed'))
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
