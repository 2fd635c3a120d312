/**
 * Limits on guessing secrets at CONNECT (issue 13), in the manner of fail2ban
 * and OpenSSH's `PerSourcePenalties`: each key (a source address, a
 * subscriber) may fail a few times freely; after that every further attempt
 * must wait an exponentially growing delay, and past a threshold the key is
 * locked out for a while. While a key waits, its attempts are refused before
 * any secret is checked, so a flood of guesses costs the server no hashing and
 * the right secret is refused too until the wait is over.
 *
 * State is per process here; a cluster puts the same counters in Redis
 * (DESIGN.md "Scale") behind this interface.
 */
export interface AttemptLimitSettings {
  /** Failures a key may have before it has to wait (default 5). */
  freeFailures: number;
  /** The first wait; doubles with every further failure (default 1 s). */
  baseDelayMs: number;
  /** Longest wait short of a lockout (default 60 s). */
  maxDelayMs: number;
  /** Failures after which the key is locked out (default 20). */
  lockoutAfter: number;
  /** How long a lockout lasts (default 15 min). */
  lockoutMs: number;
  /** A key with no failure for this long starts afresh (default 1 h). */
  forgetAfterMs: number;
  /** Most keys remembered; the oldest are forgotten first (default 100,000). */
  maxKeys: number;
  /**
   * Slow checks (a password hash) one key may have running at once (default
   * 2): failures are counted when a check ends, so without this cap a burst
   * of parallel guesses would all be checked before the first was counted
   * (OpenSSH's MaxStartups answers the same burst).
   */
  maxConcurrent: number;
}

export const DEFAULT_ATTEMPT_LIMITS: AttemptLimitSettings = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  lockoutAfter: 20,
  lockoutMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxKeys: 100_000,
  maxConcurrent: 2,
};

/** What a failure did to a key. */
export interface FailureOutcome {
  failures: number;
  /** Until when the key is refused without a check (ms since the epoch); 0 when it is not. */
  blockedUntil: number;
  /** This failure started a lockout. */
  lockedOut: boolean;
}

export interface AttemptLimiter {
  /** How long the key must still wait before an attempt is checked; 0 = check it now. */
  waitMs(key: string, now: number): Promise<number>;
  /** Counts a failed attempt. */
  fail(key: string, now: number): Promise<FailureOutcome>;
  /** Forgets the key's failures (a subscriber proved its secret). */
  succeed(key: string): Promise<void>;
}

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

/** The wait after `failures` failures (0 while they are free). */
export function delayAfter(settings: AttemptLimitSettings, failures: number): number {
  if (failures >= settings.lockoutAfter) return settings.lockoutMs;
  if (failures < settings.freeFailures) return 0;
  const doublings = Math.min(failures - settings.freeFailures, 30);
  return Math.min(settings.baseDelayMs * 2 ** doublings, settings.maxDelayMs);
}

export class MemoryAttemptLimiter implements AttemptLimiter {
  /** Insertion order = order of last failure, so the first key is the stalest. */
  private readonly entries = new Map<string, Entry>();
  readonly settings: AttemptLimitSettings;

  constructor(settings: Partial<AttemptLimitSettings> = {}) {
    this.settings = { ...DEFAULT_ATTEMPT_LIMITS, ...settings };
  }

  private current(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.blockedUntil && now - entry.lastFailure >= this.settings.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async waitMs(key: string, now: number): Promise<number> {
    const entry = this.current(key, now);
    return entry ? Math.max(0, entry.blockedUntil - now) : 0;
  }

  async fail(key: string, now: number): Promise<FailureOutcome> {
    const failures = (this.current(key, now)?.failures ?? 0) + 1;
    const delay = delayAfter(this.settings, failures);
    const entry: Entry = { failures, lastFailure: now, blockedUntil: delay > 0 ? now + delay : 0 };
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.settings.maxKeys) {
      const stalest = this.entries.keys().next().value;
      if (stalest === undefined) break;
      this.entries.delete(stalest);
    }
    return {
      failures,
      blockedUntil: entry.blockedUntil,
      lockedOut: failures === this.settings.lockoutAfter,
    };
  }

  async succeed(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

/** Counts the slow checks running per key, refusing one past the cap. */
export class InFlight {
  private readonly running = new Map<string, number>();

  constructor(private readonly cap: number) {}

  /** Enters every key, or none when one is at its cap. */
  enter(keys: readonly string[]): boolean {
    if (keys.some((k) => (this.running.get(k) ?? 0) >= this.cap)) return false;
    for (const k of keys) this.running.set(k, (this.running.get(k) ?? 0) + 1);
    return true;
  }

  leave(keys: readonly string[]): void {
    for (const k of keys) {
      const n = (this.running.get(k) ?? 0) - 1;
      if (n > 0) this.running.set(k, n);
      else this.running.delete(k);
    }
  }
}
