import { describe, expect, it } from 'vitest';
import type { AttemptLimiter, AttemptLimitSettings } from './attempt-limits.js';

/**
 * What every AttemptLimiter promises (STYLE.md §12, as Aedes' abstract
 * persistence tests): run against the in-process and the Redis limiter.
 */
export function attemptLimiterContract(
  name: string,
  make: (settings?: Partial<AttemptLimitSettings>) => Promise<AttemptLimiter>,
): void {
  describe(`AttemptLimiter contract: ${name}`, () => {
    it('a key waits only until its delay has passed, and starts afresh an hour after its last failure', async () => {
      const limiter = await make();
      for (let i = 0; i < 5; i++) await limiter.fail('addr:x', 0);
      expect(await limiter.waitMs('addr:x', 0)).toBe(1000);
      expect(await limiter.waitMs('addr:x', 999)).toBe(1);
      expect(await limiter.waitMs('addr:x', 1000)).toBe(0);
      expect(await limiter.waitMs('addr:y', 0)).toBe(0);
      expect((await limiter.fail('addr:x', 60 * 60_000)).failures).toBe(1);
    });

    it('doubles the wait up to its cap, then locks out for the lockout time', async () => {
      const limiter = await make();
      const waits: number[] = [];
      for (let i = 0; i < 20; i++) {
        const outcome = await limiter.fail('sub:1', i * 60_000);
        waits.push(outcome.blockedUntil === 0 ? 0 : outcome.blockedUntil - i * 60_000);
      }
      expect(waits.slice(0, 11)).toEqual([0, 0, 0, 0, 1000, 2000, 4000, 8000, 16000, 32000, 60000]);
      expect(waits[19]).toBe(15 * 60_000);
    });

    it('reports the failure that starts a lockout once, and success forgets the key', async () => {
      const limiter = await make({ lockoutAfter: 3, freeFailures: 1 });
      const outcomes = [];
      for (let i = 0; i < 4; i++) outcomes.push(await limiter.fail('sub:2', i));
      expect(outcomes.map((o) => o.lockedOut)).toEqual([false, false, true, false]);
      await limiter.succeed('sub:2');
      expect(await limiter.waitMs('sub:2', 4)).toBe(0);
    });

    it('counts failures made at the same time, none lost', async () => {
      const limiter = await make({ freeFailures: 1000, lockoutAfter: 2000 });
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => limiter.fail('addr:burst', 0)));
      expect(outcomes.map((o) => o.failures).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });
  });
}
