import { describe, expect, it } from 'vitest';
import { run } from './first-sync.js';

describe('bench first-sync (smoke)', () => {
  it('downloads contacts, then archive stubs and their substance, beside a raw TCP copy', async () => {
    const result = await run({
      contacts: 50,
      archiveBytes: 300_000,
      itemBytes: 100_000,
      chunks: [64 * 1024],
    });
    expect(result.bench).toBe('first-sync');
    expect(result.rows.map((r) => r.phase)).toEqual(['first sync', 'stubs', 'substance']);
    for (const row of result.rows.filter((r) => r.phase !== 'stubs')) {
      expect(row.bytes).toBeGreaterThan(0);
      expect(row.raw_tcp_ms).toBeGreaterThan(0);
      expect(Number.isFinite(row.vs_raw_tcp)).toBe(true);
    }
    expect(Object.keys(result.targets)).toHaveLength(1);
  }, 60_000);
});
