import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEntry, SyncStore, SyncTx } from './store/sync-store.js';

/**
 * The server's Prometheus metrics: connected terminals, syncs, records and
 * bytes up/down, conflicts, refusals by reason, store latency. They are read
 * off the audit trail and the store, so no sync path carries metric code.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly connected = new Gauge({
    name: 'simsync_connected_clients',
    help: 'MQTT clients connected now',
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'simsync_requests_total',
    help: 'Requests served, by action and outcome',
    labelNames: ['action', 'outcome'],
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: 'simsync_records_total',
    help: 'Records synced, by direction',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'simsync_record_bytes_total',
    help: 'Record body bytes synced, by direction',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  readonly conflicts = new Counter({
    name: 'simsync_conflicts_total',
    help: 'Conflicting edits resolved (a losing version preserved)',
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'simsync_refusals_total',
    help: 'Refused connections and requests, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'simsync_auth_failures_total',
    help: 'Refused CONNECTs, by reason (throttled = refused unchecked by the attempt limits)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: 'simsync_store_seconds',
    help: 'Store operation latency',
    labelNames: ['operation'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  observeAudit(entry: AuditEntry): void {
    this.requests.inc({ action: entry.action, outcome: entry.outcome });
    if (entry.outcome === 'refused') this.refusals.inc({ reason: reasonLabel(entry.reason) });
    if (entry.uploaded > 0) this.records.inc({ direction: 'up' }, entry.uploaded);
    if (entry.downloaded > 0) this.records.inc({ direction: 'down' }, entry.downloaded);
    if (entry.uploadedBytes > 0) this.bytes.inc({ direction: 'up' }, entry.uploadedBytes);
    if (entry.downloadedBytes > 0) this.bytes.inc({ direction: 'down' }, entry.downloadedBytes);
  }

  /** A store that reports to these metrics; behaviour is the wrapped store's. */
  meter(store: SyncStore): SyncStore {
    return this.timed(store, (name, args) => {
      if (name === 'appendAudit') this.observeAudit(args[0] as AuditEntry);
      if (name === 'transaction') {
        const fn = args[0] as (tx: SyncTx) => Promise<unknown>;
        args[0] = (tx: SyncTx) => fn(this.timed(tx, (inner, innerArgs) => this.observeTx(inner, innerArgs)));
      }
    });
  }

  /** Serves `/metrics` on the port (0 = ephemeral); resolves with the server and its port. */
  async serve(port: number, host = '127.0.0.1'): Promise<{ port: number; close: () => Promise<void> }> {
    const server = http.createServer(async (req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': this.registry.contentType });
      res.end(await this.registry.metrics());
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  private observeTx(name: string, args: unknown[]): void {
    if (name === 'appendAudit') this.observeAudit(args[0] as AuditEntry);
    if (name === 'putRecord' && String((args[1] as { recordId?: unknown }).recordId).includes('~conflict~')) {
      this.conflicts.inc();
    }
  }

  private timed<T extends object>(target: T, before: (name: string, args: unknown[]) => void): T {
    const histogram = this.storeLatency;
    return new Proxy(target, {
      get(obj, property, receiver) {
        const value = Reflect.get(obj, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]) => {
          before(property, args);
          const stop = histogram.startTimer({ operation: property });
          const result = value.apply(obj, args);
          if (result instanceof Promise) return result.finally(() => stop());
          stop();
          return result;
        };
      },
    });
  }
}

/** Refusal reasons become a small label set (free text would explode the series). */
function reasonLabel(reason: string | null): string {
  if (reason === null) return 'unknown';
  const word = /^[a-z][a-z-]*/.exec(reason)?.[0];
  return word && word.length <= 32 ? word : 'other';
}

/** Counts connected MQTT clients of an Aedes broker. */
export function trackConnections(
  metrics: ServerMetrics,
  broker: { on(event: 'client' | 'clientDisconnect', listener: () => void): unknown },
): void {
  broker.on('client', () => metrics.connected.inc());
  broker.on('clientDisconnect', () => metrics.connected.dec());
}
