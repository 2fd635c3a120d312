import { describe, expect, it } from 'vitest';
import { run } from './startup.js';

describe('bench startup (smoke)', () => {
  it('times the compiled command and the tsx way beside node -e 0, interleaved', async () => {
    const result = await run({ runs: 2 });
    expect(result.bench).toBe('startup');
    expect(result.rows.map((r) => r.command)).toEqual([
      'node -e 0',
      'simsync --help',
      'simsync --version',
      'simsync admin --help',
      'tsx cli/main.ts --help',
    ]);
    for (const row of result.rows) expect(row.median_ms).toBeGreaterThan(0);
    expect(result.rows[0]?.x_node).toBe(1);
    expect(Object.keys(result.targets)).toHaveLength(2);
  }, 60_000);
});
