import { describe, expect, it } from 'vitest';
import { fuzzApdu } from './apdu.fuzz.js';
import { fuzzAtLines } from './at-lines.fuzz.js';
import { fuzzBroker } from './broker.fuzz.js';
import type { FuzzResult } from './fuzz-result.js';
import { fuzzImport } from './import.fuzz.js';
import { seedFromEnv } from './seeded.js';

/**
 * Issue 21 "Fuzzing that runs continuously": 20,000 inputs per `npm test`,
 * a new seed each run (SIMSYNC_SEED=<n> replays one; the seed is in every
 * failure). `npm run reliability` runs a million and more.
 */
const seed = seedFromEnv();

function expectClean(result: FuzzResult, count: number): void {
  expect(result.failures, `seed ${seed}`).toEqual([]);
  expect(result.crashes, `seed ${seed}`).toBe(0);
  expect(result.inputs).toBe(count);
  expect(result.accepted + result.refused).toBe(count);
  // Both outcomes happen: the inputs reach past the first check, and some are refused.
  expect(result.accepted, `seed ${seed}`).toBeGreaterThan(0);
  expect(result.refused, `seed ${seed}`).toBeGreaterThan(0);
}

describe(`issue 21: fuzzing (seed ${seed})`, () => {
  it('the broker sync handler, 5,000 mutated requests over real MQTT: typed error or accepted, no state change on error, replays applied once, other subscribers untouched, a healthy terminal keeps syncing, heap bounded', async () => {
    const result = await fuzzBroker({ count: 5000, seed });
    expectClean(result, 5000);
    for (const kind of [
      'valid',
      'field',
      'truncated',
      'bytes',
      'huge-length',
      'random',
      'replay',
      'old-batch',
      'other-subscriber',
    ])
      expect(result.byKind[kind], kind).toBeGreaterThan(0);
    expect(result.healthyChecks).toBeGreaterThanOrEqual(5000 / 250);
    expect(result.heapGrowthBytes).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('the APDU response parsers (uicc/), 6,000 mutated card answers: a value or UiccError', () => {
    const result = fuzzApdu({ count: 6000, seed });
    expect(result.failures, `seed ${seed}`).toEqual([]);
    expect(result.inputs).toBe(6000);
  });

  it('the AT line parsers (hal-modem), 6,000 mutated modem lines: a value, or HalError for a +CSIM answer', async () => {
    expectClean(await fuzzAtLines({ count: 6000, seed }), 6000);
  });

  it('vCard / iCalendar import (cli/), 3,000 mutated files of the real-world corpus: a report, never a throw', () => {
    expectClean(fuzzImport({ count: 3000, seed }), 3000);
  }, 60_000);
});
