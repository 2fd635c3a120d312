import { describe, expect, it } from 'vitest';
import { seedFromEnv } from '../fuzz/seeded.js';
import { runNvKills } from './nv-kills.js';

/** Kills in `npm test`; `npm run reliability` runs 500 and more (bench/reliability.ts). */
const KILLS = 30;

describe('issue 21: the FileNvStore writer process SIGKILLed at random points of its commits', () => {
  it(`${KILLS} kills: after each restart the store holds exactly a prefix of whole batches, every acknowledged one included`, async () => {
    const seed = seedFromEnv();
    const result = await runNvKills({ kills: KILLS, seed });
    expect(result.problems, `seed ${seed}`).toEqual([]);
    expect(result.kills, `seed ${seed}`).toBe(KILLS);
    expect(result.lostAcknowledged).toBe(0);
    expect(result.partialBatches).toBe(0);
    // Kills landed among many commits, and in logs that had been compacted.
    expect(result.batches).toBeGreaterThan(KILLS * 5);
    expect(result.compactions).toBeGreaterThan(0);
  }, 120_000);
});
