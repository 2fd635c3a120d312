import type { Clock, TimerId } from '../hal/index.js';

/** One timeout: the Node timer now armed, re-armed if it fires early. */
interface Timeout {
  timer: NodeJS.Timeout;
}

/**
 * The host's wall clock and timers (hal Clock). Timers do not keep the
 * process alive. Node's timers run on a monotonic clock and `Date.now()` may
 * lag it by a millisecond, so a timeout can fire before `now()` reached its due
 * time; the Clock contract promises it never does, so an early one waits the rest.
 */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    const due = Date.now() + ms;
    const handle = {} as Timeout;
    const fire = () => {
      const left = due - Date.now();
      if (left > 0) {
        handle.timer = setTimeout(fire, left).unref();
        return;
      }
      callback();
    };
    handle.timer = setTimeout(fire, ms).unref();
    return handle;
  }

  clearTimeout(id: TimerId): void {
    const handle = id as Timeout | undefined;
    if (handle?.timer !== undefined) clearTimeout(handle.timer);
  }

  setInterval(callback: () => void, ms: number): TimerId {
    return setInterval(callback, ms).unref();
  }

  clearInterval(id: TimerId): void {
    clearInterval(id as NodeJS.Timeout);
  }
}
