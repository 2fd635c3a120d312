import pg from 'pg';
import { inject } from 'vitest';
import type { SyncServerOptions } from '../../broker/server.js';
import { openPostgresStore } from '../../broker/store/postgres-store.js';
import type { SimWorldOptions } from '../../cli/sim-world.js';
import { startRedis, type TestRedis } from './redis-server.js';

/**
 * Which server the end-to-end and attack suites run against (issue 18: the
 * same suites single-process and clustered). vitest.config.ts runs them twice:
 * as they are (one process, SQLite), and in the `clustered` project with
 * SIMSYNC_TEST_BACKEND=cluster: two brokers on PostgreSQL (a fresh database
 * per world, in the cluster cluster-global-setup.ts starts) and Redis (one
 * redis-server per test process, flushed for each world).
 */
export const CLUSTERED = process.env.SIMSYNC_TEST_BACKEND === 'cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

let redis: Promise<TestRedis> | undefined;
let made = 0;

async function freshDatabase(): Promise<string> {
  const admin = inject('postgresAdminUrl');
  const name = `w${process.pid}_${made++}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

async function sharedRedis(): Promise<TestRedis> {
  redis ??= startRedis().then((r) => {
    process.once('exit', () => void r.stop(true));
    return r;
  });
  const r = await redis;
  await r.flush();
  return r;
}

/**
 * Options for SimWorld.start, over `options`: terminals on in-memory links
 * (the server sees them as plain TCP from SimWorld's MEMORY_LINK_ADDRESS)
 * unless `options` says `transport: 'tcp'`; one broker on SQLite
 * single-process, two on PostgreSQL + Redis clustered.
 */
export async function worldOptions(options: SimWorldOptions = {}): Promise<SimWorldOptions> {
  const chosen: SimWorldOptions = { transport: 'memory', ...options };
  if (!CLUSTERED) return chosen;
  const url = await freshDatabase();
  const r = await sharedRedis();
  return { ...chosen, cluster: { redis: r.url, brokers: 2, openStore: () => openPostgresStore(url) } };
}

/** Options for one test server: none single-process; PostgreSQL + Redis clustered. */
export async function serverOptions(): Promise<Partial<SyncServerOptions>> {
  if (!CLUSTERED) return {};
  const url = await freshDatabase();
  const r = await sharedRedis();
  return { store: await openPostgresStore(url), redis: r.url };
}
