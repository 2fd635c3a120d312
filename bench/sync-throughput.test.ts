import { describe, expect, it } from 'vitest';
import { run } from './sync-throughput.js';

describe('bench sync-throughput (smoke)', () => {
  it('runs sync cycles against a broker process, a plain-MQTT baseline and a session-shaped one in the same run', async () => {
    const result = await run({ terminals: [1, 2], k: 5, recordsPerRun: 10 });
    expect(result.bench).toBe('sync-throughput');
    expect(result.rows.map((r) => `${r.M}/${r.system}`)).toEqual([
      '1/sync',
      '1/plain-mqtt',
      '1/plain-session',
      '2/sync',
      '2/plain-mqtt',
      '2/plain-session',
    ]);
    for (const row of result.rows) {
      expect(row.failed).toBe(0);
      expect(row.records_up).toBeGreaterThan(0);
      expect(row.records_per_s).toBeGreaterThan(0);
      expect(row.broker_rss_mib).toBeGreaterThan(0);
    }
    const pair = result.rows.find((r) => r.M === 2 && r.system === 'sync')!;
    expect(pair.sessions).toBe(4);
    expect(pair.records_up).toBe(20);
    // The session-shaped baseline: a connection per round per client, each message back through the broker.
    const sessions = result.rows.find((r) => r.M === 2 && r.system === 'plain-session')!;
    expect(sessions.sessions).toBe(4);
    expect(sessions.records_up).toBe(20);
    expect(Number(sessions.p50_ms)).toBeGreaterThan(0);
    expect(Object.keys(result.targets)).toHaveLength(4);
  }, 60_000);
});
