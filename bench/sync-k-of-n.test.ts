import { describe, expect, it } from 'vitest';
import { run } from './sync-k-of-n.js';

describe('bench sync-k-of-n (smoke)', () => {
  it('runs and produces a well-formed result with a same-run baseline', async () => {
    const result = await run({ n: 40, ks: [1, 40] });
    expect(result.bench).toBe('sync-k-of-n');
    expect(result.rows.map((r) => r.case)).toEqual([
      'change',
      'change',
      'change',
      'first-sync',
      'baseline-plain-mqtt',
    ]);
    for (const row of result.rows) {
      expect(row.wire_bytes).toBeGreaterThan(0);
      expect(Number.isFinite(row.overhead_per_record)).toBe(true);
    }
    expect(Object.keys(result.targets).length).toBeGreaterThan(0);
  });
});
