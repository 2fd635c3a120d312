import { describe, expect, it } from 'vitest';
import { failed, quick, run } from './reliability.js';

describe('bench reliability (smoke: the --quick form CI runs)', () => {
  it('runs histories, both kill runs, the NV damage scan and every fuzz target; all loss counts 0, so it does not fail', async () => {
    const result = await run({ ...quick, seed: 21 });
    expect(result.bench).toBe('reliability');
    expect(result.problems).toEqual([]);
    const value = (measure: string) => result.rows.find((r) => r.measure === measure)?.value;
    expect(value('histories run')).toBe(quick.histories);
    expect(value('fault: SIGKILL of the NV store writer')).toBe(quick.nvKills);
    expect(value('fault: SIGKILL of the simsync server')).toBe(quick.brokerKills);
    for (const target of ['broker-sync', 'apdu', 'at-lines', 'vcard-ical'])
      expect(value(`inputs fuzzed: ${target}`), target).toBeGreaterThan(0);
    expect(value('inputs fuzzed: total')).toBeGreaterThanOrEqual(quick.fuzz as number);
    expect(result.totals).toEqual({
      lostAcknowledged: 0,
      duplicates: 0,
      unconvergedTerminals: 0,
      damagedLogsUsed: 0,
      crashes: 0,
    });
    expect(value('fault: bit flip in the NV log (every byte)')).toBeGreaterThan(100);
    expect(Number(value('peak simsync server RSS, MiB (SIGKILL run)'))).toBeGreaterThan(0);
    expect(failed(result)).toBe(false);
    // Any loss makes the command fail.
    expect(failed({ ...result, targets: { ...result.targets, '0 lost acknowledged changes': false } })).toBe(
      true,
    );
  }, 180_000);
});
