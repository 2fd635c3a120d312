import { describe, expect, it } from 'vitest';
import { run } from './sync-throughput.js';

describe('bench sync-throughput (smoke)', () => {
  it('runs sync cycles against a broker process and a plain-MQTT baseline in the same run', async () => {
    const result = await run({ terminals: [1, 2], k: 5, recordsPerRun: 10 });
    expect(result.bench).toBe('sync-throughput');
    expect(result.rows.map((r) => `${r.M}/${r.system}`)).toEqual([
      '1/sync',
      '1/plain-mqtt',
      '2/sync',
      '2/plain-mqtt',
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
    expect(Object.keys(result.targets)).toHaveLength(2);
  }, 60_000);
});
