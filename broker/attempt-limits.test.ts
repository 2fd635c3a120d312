import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../test/support/redis-server.js';
import { attemptLimiterContract } from './attempt-limits.contract.js';
import { DEFAULT_ATTEMPT_LIMITS, delayAfter, MemoryAttemptLimiter } from './attempt-limits.js';
import { RedisAttemptLimiter } from './redis-attempt-limiter.js';

describe('attempt limits (issue 13; fail2ban / OpenSSH PerSourcePenalties)', () => {
  it('lets the first failures through, then doubles the wait up to its cap, then locks out', () => {
    const waits = Array.from({ length: 21 }, (_, i) => delayAfter(DEFAULT_ATTEMPT_LIMITS, i + 1));
    expect(waits.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(waits.slice(4, 11)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000]);
    expect(waits[18]).toBe(60_000);
    expect(waits[19]).toBe(15 * 60_000);
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

attemptLimiterContract('in-process', async (settings) => new MemoryAttemptLimiter(settings));

describe('on Redis', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  let n = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis.stop();
  });
  attemptLimiterContract('Redis', async (settings) => {
    const client = new Redis(redis.url);
    clients.push(client);
    return new RedisAttemptLimiter(client, settings, `test${n++}:`);
  });

  it('two processes (two connections) count the same key', async () => {
    const [a, b] = [new Redis(redis.url), new Redis(redis.url)];
    clients.push(a, b);
    const one = new RedisAttemptLimiter(a, {}, 'shared:');
    const two = new RedisAttemptLimiter(b, {}, 'shared:');
    for (let i = 0; i < 3; i++) await one.fail('addr:z', 0);
    for (let i = 0; i < 2; i++) await two.fail('addr:z', 0);
    expect(await one.waitMs('addr:z', 0)).toBe(1000);
  });
});
