import { describe, expect, it } from 'vitest';
import { seedFromEnv } from '../fuzz/seeded.js';
import { runBrokerKills } from './broker-kills.js';

/** Kills in `npm test` (each restart of the real server costs seconds); `npm run reliability` runs more. */
const KILLS = 3;

describe('issue 21: the simsync server process SIGKILLed during uploads from several terminals', () => {
  it(`${KILLS} kills, 3 terminals: every acknowledged upload is in the SQLite file after each kill; unacknowledged ones are retried and applied once; all converge`, async () => {
    const seed = seedFromEnv();
    const result = await runBrokerKills({ kills: KILLS, terminals: 3, seed });
    expect(result.problems, `seed ${seed}`).toEqual([]);
    expect(result.kills).toBe(KILLS);
    expect(result.lostAcknowledged).toBe(0);
    expect(result.duplicates).toBe(0);
    expect(result.neverUploaded).toBe(0);
    expect(result.unconverged).toBe(0);
    // The kills landed among acknowledged uploads and cut some syncs short.
    expect(result.acknowledgedChecked, `seed ${seed}`).toBeGreaterThan(0);
    expect(result.failedSyncs, `seed ${seed}`).toBeGreaterThan(0);
  }, 180_000);
});
