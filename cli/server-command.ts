import { type Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { AkaVault, ServerMetrics, startSyncServer, trackConnections } from '../broker/index.js';
import { notePort } from './process-guard.js';
import { readServerSettings, withSettingsFile } from './server-settings.js';
import { openServerStore } from './server-store.js';

/** The flags of `simsync server`, as cli/main.ts declares them. */
export type ServerFlags = {
  data: string;
  config?: string;
  host: string;
  postgres?: string;
  redis?: string;
  proxyProtocol?: boolean;
  port: number;
  tlsKey?: string;
  tlsCert?: string;
  tlsPort: number;
  wsPort?: number;
  metricsPort: number;
  metricsHost: string;
  authFreeFailures: number;
  authMaxDelaySeconds: number;
  authLockoutAfter: number;
  authLockoutMinutes: number;
  akaKeyFile?: string;
};

/**
 * `simsync server`. cli/main.ts loads this module only when the command runs,
 * so `simsync --help` does not pay for Aedes, the stores and pino.
 */
export async function runServer(flags: ServerFlags, command: Command): Promise<void> {
  const opts = withSettingsFile({ ...flags }, readServerSettings(flags.data, flags.config), (key) =>
    command.getOptionValueSource(key),
  );
  const logger = pino({ name: 'simsync-server' });
  const tls =
    opts.tlsKey && opts.tlsCert ? { key: opts.tlsKey, cert: opts.tlsCert, port: opts.tlsPort } : undefined;
  if (Boolean(opts.tlsKey) !== Boolean(opts.tlsCert))
    throw new InvalidArgumentError('--tls-key and --tls-cert go together');
  // A port already taken becomes one line naming the flag (process-guard.ts).
  notePort(opts.port, '--port');
  notePort(opts.metricsPort, '--metrics-port');
  if (opts.tlsKey) notePort(opts.tlsPort, '--tls-port');
  notePort(opts.wsPort, '--ws-port');
  // A key file named but unreadable stops the start, before the store opens (AkaVaultError: one line).
  const akaVault = opts.akaKeyFile === undefined ? undefined : AkaVault.fromFile(opts.akaKeyFile);
  const metrics = new ServerMetrics();
  const store = await openServerStore(opts.data, opts.postgres);
  if (akaVault === undefined && (await store.listAka()).length > 0) {
    logger.warn(
      'subscribers have AKA keys and no --aka-key-file was given: their syncs are refused until the server has it',
    );
  }
  const server = await startSyncServer({
    store: metrics.meter(store),
    host: opts.host,
    port: opts.port,
    logger,
    ...(opts.redis ? { redis: opts.redis } : {}),
    ...(opts.proxyProtocol ? { proxyProtocol: true } : {}),
    attemptLimits: {
      freeFailures: opts.authFreeFailures,
      maxDelayMs: opts.authMaxDelaySeconds * 1000,
      lockoutAfter: opts.authLockoutAfter,
      lockoutMs: opts.authLockoutMinutes * 60_000,
    },
    onAuthFailure: (reason) => metrics.authFailures.inc({ reason }),
    ...(akaVault ? { akaVault } : {}),
    ...(tls ? { tls } : {}),
    ...(opts.wsPort !== undefined ? { ws: { port: opts.wsPort } } : {}),
  });
  trackConnections(metrics, server.broker);
  const endpoint =
    opts.metricsPort === 0 ? undefined : await metrics.serve(opts.metricsPort, opts.metricsHost);
  const reach = ['127.0.0.1', '::1', 'localhost'].includes(opts.host)
    ? 'this machine only (--host 0.0.0.0 for the network)'
    : 'the network';
  logger.info(
    {
      host: opts.host,
      port: server.port,
      tlsPort: server.tlsPort,
      wsPort: server.wsPort,
      metricsPort: endpoint?.port,
      data: opts.data,
      cluster: opts.redis ? 'redis' : undefined,
    },
    `server ready on ${opts.host}:${server.port}, reachable from ${reach}`,
  );
  const stop = async () => {
    logger.info('shutting down');
    await endpoint?.close();
    await server.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
