import type { Clock, TimerId } from '../hal/index.js';

/** One pending timeout: when it is due, and its place among timeouts due at the same millisecond. */
interface Timeout {
  due: number;
  seq: number;
  callback: () => void;
  cleared: boolean;
}

/** Whether `a` fires before `b`: earlier due time first, ties in order of creation. */
const before = (a: Timeout, b: Timeout) => a.due < b.due || (a.due === b.due && a.seq < b.seq);

/**
 * The host's wall clock and timers (hal Clock). Timers do not keep the
 * process alive.
 *
 * Node's timers run on a monotonic clock and `Date.now()` may lag it by a
 * millisecond, so a Node timeout can fire before `now()` reached its due
 * time. The Clock contract promises it never does, and that timeouts fire in
 * order of due time, ties in order of creation. A Node timer per timeout,
 * re-armed when early, broke the second promise: of two ties, the first could
 * fire early and be re-armed behind the second (seen in a CI run). So the
 * timeouts wait in one queue in firing order, under one Node timer armed for
 * the first; when it fires, every timeout due by `now()` then runs, in order.
 */
export class SystemClock implements Clock {
  readonly #queue: Timeout[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The due time the Node timer is armed for. */
  #armedFor = Number.POSITIVE_INFINITY;

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    const timeout: Timeout = {
      due: Date.now() + Math.max(0, ms),
      seq: this.#seq++,
      callback,
      cleared: false,
    };
    this.#queue.splice(this.#indexFor(timeout), 0, timeout);
    this.#arm();
    return timeout;
  }

  clearTimeout(id: TimerId): void {
    const timeout = id as Timeout | undefined;
    if (timeout === undefined || typeof timeout.seq !== 'number') return;
    // Also when it is due in the turn now running (an earlier callback of it clears a later one).
    timeout.cleared = true;
    const i = this.#indexFor(timeout) - 1;
    if (this.#queue[i] !== timeout) return;
    this.#queue.splice(i, 1);
    if (i === 0) this.#arm();
  }

  setInterval(callback: () => void, ms: number): TimerId {
    return setInterval(callback, ms).unref();
  }

  clearInterval(id: TimerId): void {
    clearInterval(id as NodeJS.Timeout);
  }

  /** Where `timeout` goes in the queue: after every timeout that fires before or with it (binary search). */
  #indexFor(timeout: Timeout): number {
    let low = 0;
    let high = this.#queue.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (before(timeout, this.#queue[mid] as Timeout)) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  /** The Node timer, armed for the first timeout in the queue (none when it is empty). */
  #arm(): void {
    const first = this.#queue[0];
    if (first !== undefined && first.due === this.#armedFor) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    if (first === undefined) return;
    this.#armedFor = first.due;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, first.due - Date.now())).unref();
  }

  /**
   * Runs, in order, the timeouts due by now (one set from a callback waits
   * for the next turn, as with Node's own timers). A callback that throws is
   * reported as Node reports a timer's exception, and the others still run.
   */
  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let count = 0;
    while (count < this.#queue.length && (this.#queue[count] as Timeout).due <= now) count++;
    for (const timeout of this.#queue.splice(0, count)) {
      if (timeout.cleared) continue;
      try {
        timeout.callback();
      } catch (error) {
        process.nextTick(() => {
          throw error;
        });
      }
    }
    this.#arm();
  }
}
