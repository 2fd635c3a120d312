import { HalError } from '../hal/index.js';

export interface DeadlineHooks<T> {
  /** The deadline passed; the native call is still running. */
  onTimeout?: () => void;
  /** The native call finished after its deadline (e.g. to release what it acquired). */
  onLate?: (error: unknown, value?: T) => void;
}

/**
 * Runs a callback-style native call and settles within `ms`: a PC/SC call
 * that never returns (a wedged driver, a silent card, a daemon that stopped
 * answering) becomes HalError 'timeout' instead of a hang. The native call
 * itself may still finish later; `hooks` hear about both moments.
 */
export function withDeadline<T>(
  ms: number,
  what: string,
  start: (settle: (error: unknown, value?: T) => void) => void,
  hooks: DeadlineHooks<T> = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      hooks.onTimeout?.();
      reject(new HalError('timeout', `${what} took over ${ms} ms`));
    }, ms);
    const settle = (error: unknown, value?: T) => {
      if (done) {
        hooks.onLate?.(error, value);
        return;
      }
      done = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value as T);
    };
    try {
      start(settle);
    } catch (e) {
      settle(e);
    }
  });
}

/**
 * Waits for `work` at most `ms`: resolves true when it settled in time
 * (fulfilled or rejected), false when the bound ran out first. `work` goes
 * on either way; the timer does not keep the process alive.
 */
export function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(done, done);
  });
}
