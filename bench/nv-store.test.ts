import { describe, expect, it } from 'vitest';
import { run } from './nv-store.js';

describe('bench nv-store (smoke)', () => {
  it('measures both stores on three workloads beside their baselines, with write amplification', async () => {
    const result = await run({ records: 20, changes: 30 });
    expect(result.bench).toBe('nv-store');
    expect(result.rows.map((r) => `${r.store}/${r.workload}`)).toEqual([
      'append+fdatasync/baseline',
      'FileNvStore/nv put',
      'FileNvStore/record edit',
      'FileNvStore/edit + sync ack',
      'Map.set/baseline',
      'SimNvStore/nv put',
      'SimNvStore/record edit',
      'SimNvStore/edit + sync ack',
    ]);
    for (const row of result.rows) {
      expect(row.changes_per_s).toBeGreaterThan(0);
      // Every store writes at least the bytes that changed.
      expect(row.write_amplification).toBeGreaterThanOrEqual(1);
    }
    expect(result.rows.find((r) => r.workload === 'edit + sync ack')?.commits_per_change).toBe(3);
    expect(Object.keys(result.targets)).toHaveLength(6);
  }, 30_000);
});
