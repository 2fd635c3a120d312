import { describe, expect, it } from 'vitest';
import { DEFAULT_ATTEMPT_LIMITS, delayAfter, MemoryAttemptLimiter } from './attempt-limits.js';

describe('attempt limits (issue 13; fail2ban / OpenSSH PerSourcePenalties)', () => {
  it('lets the first failures through, then doubles the wait up to its cap, then locks out', () => {
    const waits = Array.from({ length: 21 }, (_, i) => delayAfter(DEFAULT_ATTEMPT_LIMITS, i + 1));
    expect(waits.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(waits.slice(4, 11)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000]);
    expect(waits[18]).toBe(60_000);
    expect(waits[19]).toBe(15 * 60_000);
  });

  it('a key waits only until its delay has passed, and starts afresh an hour after its last failure', async () => {
    const limiter = new MemoryAttemptLimiter();
    for (let i = 0; i < 5; i++) await limiter.fail('addr:x', 0);
    expect(await limiter.waitMs('addr:x', 0)).toBe(1000);
    expect(await limiter.waitMs('addr:x', 999)).toBe(1);
    expect(await limiter.waitMs('addr:x', 1000)).toBe(0);
    expect(await limiter.waitMs('addr:y', 0)).toBe(0);
    expect((await limiter.fail('addr:x', 60 * 60_000)).failures).toBe(1);
  });

  it('reports the failure that starts a lockout once, and success forgets the key', async () => {
    const limiter = new MemoryAttemptLimiter({ lockoutAfter: 3, freeFailures: 1 });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await limiter.fail('sub:1', i));
    expect(outcomes.map((o) => o.lockedOut)).toEqual([false, false, true, false]);
    await limiter.succeed('sub:1');
    expect(await limiter.waitMs('sub:1', 4)).toBe(0);
  });

  it('remembers at most maxKeys keys, forgetting the stalest first', async () => {
    const limiter = new MemoryAttemptLimiter({ maxKeys: 2, freeFailures: 1 });
    await limiter.fail('a', 0);
    await limiter.fail('b', 0);
    await limiter.fail('c', 0);
    expect(await limiter.waitMs('a', 0)).toBe(0);
    expect(await limiter.waitMs('c', 0)).toBe(1000);
  });
});
