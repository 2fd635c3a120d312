import { describe, expect, it, vi } from 'vitest';
import { openSqliteStore, ServerMetrics, trackConnections } from '../broker/index.js';
import { KeyringAgent, SimWorld } from '../cli/sim-world.js';
import { CATEGORIES, utf8 } from '../core/index.js';

describe('server metrics (Prometheus)', () => {
  it('counts connections, syncs, records and bytes each way, conflicts, refusals, store latency', async () => {
    const metrics = new ServerMetrics();
    const world = await SimWorld.start({ store: metrics.meter(openSqliteStore(':memory:')) });
    trackConnections(metrics, world.server.broker);
    const endpoint = await metrics.serve(0);
    try {
      await world.server.admin.addSubscriber({ subscriber: '001010000000102', loginPassword: 'L-1' });
      const sim = SimWorld.sim();
      const agent = new KeyringAgent({ pin: '1234', terminalPassword: 'pw-12' });
      const t = await world.addTerminal('a', agent);
      t.reader.insert(sim);
      await world.register(t, {
        policy: 'fig13-server-only',
        loginPassword: 'L-1',
        terminalPassword: 'pw-12',
        categories: [...CATEGORIES],
      });
      await t.terminal.edit('contacts', 'x', utf8('12345'));
      await t.terminal.sync();
      const scrape = async () => (await fetch(`http://127.0.0.1:${endpoint.port}/metrics`)).text();
      // The terminal stays connected while its SIM is mounted.
      expect(await scrape()).toMatch(/^simsync_connected_clients 1$/m);
      // A stranger's SIM: refused by the server (FIG. 14).
      t.reader.remove();
      t.reader.insert(SimWorld.sim({ imsi: '228062800000208', iccid: '8988211000000430028', pin: '1234' }));
      await expect(t.terminal.sync()).rejects.toMatchObject({ code: 'not-registered' });

      // A refused sync drops the connection; the broker notices it a moment later.
      let text = '';
      await vi.waitFor(
        async () => {
          text = await scrape();
          expect(text).toMatch(/^simsync_connected_clients 0$/m);
        },
        { timeout: 2000, interval: 20 },
      );
      const value = (series: string) =>
        Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('simsync_connected_clients')).toBe(0);
      expect(value('simsync_records_total{direction="up"}')).toBe(1);
      expect(value('simsync_record_bytes_total{direction="up"}')).toBe(5);
      expect(value('simsync_requests_total{action="upload",outcome="accepted"}')).toBe(1);
      expect(value('simsync_refusals_total{reason="not-registered"}')).toBeGreaterThanOrEqual(1);
      expect(value('simsync_store_seconds_count{operation="transaction"}')).toBeGreaterThan(0);
      expect(text).toContain('simsync_conflicts_total 0');
      expect((await fetch(`http://127.0.0.1:${endpoint.port}/other`)).status).toBe(404);
    } finally {
      await endpoint.close();
      await world.close();
    }
  });
});
