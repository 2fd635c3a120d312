import { fuzzApdu } from './apdu.fuzz.js';
import { fuzzAtLines } from './at-lines.fuzz.js';
import { type BrokerFuzzResult, fuzzBroker } from './broker.fuzz.js';
import type { FuzzOptions, FuzzResult } from './fuzz-result.js';
import { fuzzImport } from './import.fuzz.js';

export type { BrokerFuzzResult } from './broker.fuzz.js';
export type { FuzzOptions, FuzzResult } from './fuzz-result.js';
export { fuzzApdu, fuzzAtLines, fuzzBroker, fuzzImport };

/** How `count` inputs are shared among the targets (the slow ones get fewer). */
export const SHARES = { 'broker-sync': 0.2, apdu: 0.35, 'at-lines': 0.35, 'vcard-ical': 0.1 } as const;

/**
 * Issue 21: every fuzz target, `count` inputs in all (shared as SHARES),
 * each target seeded from `seed`. The report (bench/reliability.ts) and
 * `npm test` (test/fuzz/*.test.ts) call this or the targets one by one.
 */
export async function fuzzAll(
  options: FuzzOptions,
): Promise<{ results: FuzzResult[]; broker: BrokerFuzzResult }> {
  const share = (target: keyof typeof SHARES) => Math.ceil(options.count * SHARES[target]);
  const broker = await fuzzBroker({ count: share('broker-sync'), seed: options.seed });
  const results: FuzzResult[] = [
    broker,
    fuzzApdu({ count: share('apdu'), seed: options.seed + 1 }),
    await fuzzAtLines({ count: share('at-lines'), seed: options.seed + 2 }),
    fuzzImport({ count: share('vcard-ical'), seed: options.seed + 3 }),
  ];
  return { results, broker };
}
