import { Readable } from 'node:stream';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import type { AttemptLimitSettings } from './attempt-limits.js';
import type { Logger } from './logger.js';
import { RedisAttemptLimiter } from './redis-attempt-limiter.js';

/**
 * What several broker processes share to act as one server (DESIGN.md
 * "Scale"), with the engines Aedes itself supports: mqemitter-redis fans
 * every publish out to all processes, so a reply or a [0044] notice reaches
 * the terminal whichever process holds its connection; aedes-persistence-redis
 * keeps subscriptions and QoS state; the attempt limits count in Redis. The
 * sync store (PostgreSQL) is shared separately.
 *
 * aedes-persistence-redis 11.2 is the range Aedes 1.2 declares as its peer
 * (12.0 is refused by npm's peer check); its async class is the one Aedes 1.x
 * takes (the package's default export wraps it in callbacks).
 */
/**
 * Aedes 1.2 pipes the retained messages of a SUBSCRIBE (`stream.pipe`,
 * lib/handlers/subscribe.js), where this persistence hands back an async
 * generator; aedes-persistence 11's own async class returns a Readable.
 * Everything else Aedes 1.2 takes as the class gives it.
 */
class RedisPersistence extends AsyncRedisPersistence {
  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(super.createRetainedStreamCombi(patterns));
  }
}

export interface ClusterLink {
  mq: ReturnType<typeof mqemitterRedis>;
  persistence: RedisPersistence;
  limiter: RedisAttemptLimiter;
  /** Closes what Aedes does not close itself (aedes.close closes the mq), after it. */
  close(): Promise<void>;
}

/**
 * Resolves once a connection has had no command waiting for its reply for a
 * while (Aedes' clean-ups of the clients it just closed run after its close
 * callback), or after `ms`.
 */
async function quiet(conn: Redis, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  // ioredis keeps sent commands awaiting replies in `commandQueue` (not in its types).
  const pending = () => (conn as unknown as { commandQueue?: { length: number } }).commandQueue?.length ?? 0;
  for (let calm = 0; calm < 5 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 20));
    calm = pending() === 0 ? calm + 1 : 0;
  }
}

export async function connectCluster(
  url: string,
  limits: Partial<AttemptLimitSettings>,
  logger: Logger,
): Promise<ClusterLink> {
  // ioredis retries forever by default; a broker keeps serving its live
  // connections while Redis is away and catches up when it is back.
  const options = { maxRetriesPerRequest: 3, retryStrategy: (n: number) => Math.min(n * 200, 2000) };
  const limits$ = new Redis(url, options);
  const store = new Redis(url, options);
  for (const conn of [limits$, store]) {
    conn.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  }
  // mqemitter-redis closes its connections with quit() and leaves the promise
  // alone; a socket that closes before QUIT's reply would make it an unhandled
  // rejection. Its connections are made here, with a quit that cannot reject.
  const [subConn, pubConn] = [new Redis(url), new Redis(url)];
  for (const conn of [subConn, pubConn]) {
    const quit = conn.quit.bind(conn);
    conn.quit = (() => quit().catch(() => 'OK')) as typeof conn.quit;
  }
  const mq = mqemitterRedis({ subConn, pubConn });
  // Its connection errors come on `state` (mqemitter-redis.js), which its types leave out.
  (mq as unknown as { state: NodeJS.EventEmitter }).state.on('error', (err: Error) =>
    logger.warn({ err: err.message }, 'redis fan-out error'),
  );
  const persistence = new RedisPersistence({ conn: store });
  return {
    mq,
    persistence,
    limiter: new RedisAttemptLimiter(limits$, limits),
    async close() {
      // Aedes' last client clean-ups may still have commands queued: let
      // them finish (bounded), then QUIT, which answers what is queued
      // first. A command cut by disconnect() would reject where nobody waits.
      await quiet(store, 1500);
      await Promise.all([limits$.quit(), store.quit()]).catch(() => undefined);
      await persistence.destroy().catch(() => undefined);
    },
  };
}
