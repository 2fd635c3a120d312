import { describe, expect, it } from 'vitest';
import { run } from './connections.js';

describe('bench connections (smoke)', () => {
  it('registers idle terminals, connects them from a client process and reads broker RSS per step', async () => {
    const result = await run({ target: 40, steps: 2, batch: 10 });
    expect(result.bench).toBe('connections');
    expect(result.rows.map((r) => r.connections)).toEqual([0, 20, 40]);
    for (const row of result.rows) {
      expect(row.failed).toBe(0);
      expect(row.broker_rss_mib).toBeGreaterThan(0);
    }
    expect(result.parameters.attempted).toBe(40);
    expect(Object.keys(result.targets)).toHaveLength(3);
  }, 60_000);
});
