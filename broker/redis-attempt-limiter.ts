import type { Redis } from 'ioredis';
import {
  type AttemptLimiter,
  type AttemptLimitSettings,
  DEFAULT_ATTEMPT_LIMITS,
  type FailureOutcome,
} from './attempt-limits.js';

/**
 * The attempt limits of attempt-limits.ts kept in Redis, so that every broker
 * process of a cluster counts the same failures (DESIGN.md "Scale"): a key is
 * a hash `{failures, last, until}` that Redis expires once it would be
 * forgotten anyway. A failure is counted by one script, so two processes
 * failing the same key at once both count.
 */
const FAIL = `
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local now = tonumber(ARGV[1])
local free, base, maxDelay, lockAfter, lockMs, forget =
  tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if failures > 0 and now >= untilMs and now - last >= forget then failures = 0 end
failures = failures + 1
local delay = 0
if failures >= lockAfter then delay = lockMs
elseif failures >= free then delay = math.min(base * 2 ^ math.min(failures - free, 30), maxDelay) end
local blocked = 0
if delay > 0 then blocked = now + delay end
redis.call('HSET', KEYS[1], 'failures', failures, 'last', now, 'until', blocked)
redis.call('PEXPIRE', KEYS[1], math.max(forget, delay) + 1000)
return {failures, tostring(blocked)}
`;

export class RedisAttemptLimiter implements AttemptLimiter {
  readonly settings: AttemptLimitSettings;

  constructor(
    private readonly redis: Redis,
    settings: Partial<AttemptLimitSettings> = {},
    private readonly prefix = 'simsync:attempts:',
  ) {
    this.settings = { ...DEFAULT_ATTEMPT_LIMITS, ...settings };
  }

  async waitMs(key: string, now: number): Promise<number> {
    const until = Number((await this.redis.hget(this.prefix + key, 'until')) ?? 0);
    return Math.max(0, until - now);
  }

  async fail(key: string, now: number): Promise<FailureOutcome> {
    const s = this.settings;
    const [failures, blocked] = (await this.redis.eval(
      FAIL,
      1,
      this.prefix + key,
      now,
      s.freeFailures,
      s.baseDelayMs,
      s.maxDelayMs,
      s.lockoutAfter,
      s.lockoutMs,
      s.forgetAfterMs,
    )) as [number, string];
    return { failures, blockedUntil: Number(blocked), lockedOut: failures === s.lockoutAfter };
  }

  async succeed(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}
