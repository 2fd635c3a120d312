/** Opaque timer handle. */
export type TimerId = { readonly __timer: unique symbol } | number | object;

/**
 * Time and timers. The core uses nothing else for time, so the simulated
 * clock can run hour-long trigger schedules in milliseconds.
 *
 * Promises: timers fire in order of due time (ties in order of creation),
 * never before `now()` reaches their due time. Clearing an unknown or fired
 * timer is a no-op. Power loss cancels all timers.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  setInterval(callback: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
}

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
