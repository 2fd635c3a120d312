import { HalError } from '../hal/index.js';

/**
 * Runs a callback-style native call and settles within `ms`: a PC/SC call
 * that never returns (a wedged driver, a daemon that stopped answering)
 * becomes HalError 'timeout' instead of a hang. The native call itself may
 * still finish later; `onLate` hears about it so the caller can clean up.
 */
export function withDeadline<T>(
  ms: number,
  what: string,
  start: (settle: (error: unknown, value?: T) => void) => void,
  onLate: (error: unknown, value?: T) => void = () => {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new HalError('timeout', `${what} took over ${ms} ms`));
    }, ms);
    const settle = (error: unknown, value?: T) => {
      if (done) {
        onLate(error, value);
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
