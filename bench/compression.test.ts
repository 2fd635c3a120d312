import { expect, it } from 'vitest';
import { corpusContacts, quick, run } from './compression.js';

it('bench compression --quick: the three address books, each smaller on the wire than as CBOR', async () => {
  expect(corpusContacts().length).toBeGreaterThan(100);
  const result = await run(quick);
  expect(result.rows.map((r) => r.book)).toEqual(['templated', 'real', 'real, varied']);
  for (const row of result.rows) {
    expect(row.wire_bytes as number).toBeLessThan(row.cbor_bytes as number);
    expect(row.deflate_us_per_record as number).toBeGreaterThan(0);
  }
  // Templated contacts compress far better than real ones: why the real corpus is measured too.
  const ratio = (book: string) => result.rows.find((r) => r.book === book)?.wire_vs_cbor as number;
  expect(ratio('templated')).toBeLessThan(ratio('real'));
}, 60_000);
