import type { Clock } from '../hal/index.js';

/**
 * Settles as `work` does, or rejects with `expired()` once `ms` have passed
 * on `clock`, whichever comes first. The timer is cleared either way; `work`
 * itself is not cancelled (what it finished is kept).
 */
export function withDeadline<T>(
  clock: Clock,
  work: Promise<T>,
  ms: number,
  expired: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(expired()), ms);
    work.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clock.clearTimeout(timer);
        reject(e);
      },
    );
  });
}
