import { expect, it } from 'vitest';
import { quick, run } from './sealed.js';

it('bench sealed --quick: every store and workload, plain and sealed, both measured', async () => {
  const result = await run(quick);
  expect(result.rows).toHaveLength(8);
  for (const row of result.rows) {
    expect(row.plain_us_per_record as number).toBeGreaterThan(0);
    expect(row.sealed_us_per_record as number).toBeGreaterThan(0);
  }
  expect(Object.keys(result.targets)).toHaveLength(2);
}, 120_000);
