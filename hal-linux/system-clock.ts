import type { Clock, TimerId } from '../hal/index.js';

/** The host's wall clock and timers (hal Clock). Timers do not keep the process alive. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    return setTimeout(callback, ms).unref();
  }

  clearTimeout(id: TimerId): void {
    clearTimeout(id as NodeJS.Timeout);
  }

  setInterval(callback: () => void, ms: number): TimerId {
    return setInterval(callback, ms).unref();
  }

  clearInterval(id: TimerId): void {
    clearInterval(id as NodeJS.Timeout);
  }
}
