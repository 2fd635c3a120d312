import { type Clock, HalError, type TimerId } from '../hal/index.js';

/** 2024-01-01T00:00:00Z: a fixed, readable epoch so simulated runs are reproducible. */
export const DEFAULT_EPOCH_MS = Date.UTC(2024, 0, 1);

export interface VirtualClockOptions {
  /** Initial `now()` in ms since the Unix epoch. Default `DEFAULT_EPOCH_MS`. */
  start?: number;
  /**
   * How many microtask turns to yield after each fired timer (and at the end
   * of every `advance`), so async work a timer started can schedule more
   * timers before the clock moves on. Default 100.
   */
  microtaskTurns?: number;
  /**
   * Also yield one macrotask (setImmediate, else a real 0 ms timeout) after
   * each timer. Needed when the code under test waits on `process.nextTick`
   * or stream events (e.g. mqtt.js), which microtask turns alone starve.
   * Default false.
   */
  yieldMacrotask?: boolean;
  /** `runAll` gives up (HalError 'timeout') after firing this many timers. Default 100 000. */
  runAllLimit?: number;
}

interface Timer {
  readonly handle: VirtualTimerId;
  readonly callback: () => void;
  due: number;
  /** Creation order (kept by a re-armed interval); breaks ties between equal due times. */
  readonly seq: number;
  /** Repeat period for intervals; undefined for one-shot timeouts. */
  readonly period: number | undefined;
}

/** Handle returned by VirtualClock timers; compare by identity. */
export class VirtualTimerId {
  constructor(readonly id: number) {}
}

/**
 * A `Clock` whose time moves only when the test says so (DESIGN.md "Clock":
 * hour-long trigger schedules test in milliseconds).
 *
 * Timers fire in order of due time, ties in creation order, and never before
 * `now()` reaches their due time. Between two timers the clock yields to
 * pending microtasks, so a timer callback that starts async work which in turn
 * schedules timers is handled within the same `advance`. `advance`,
 * `runUntil` and `runAll` must not overlap; a second concurrent call rejects
 * HalError 'busy'. If a callback throws, the run stops at that timer's due
 * time and the error propagates.
 */
export class VirtualClock implements Clock {
  readonly #start: number;
  readonly #turns: number;
  readonly #macrotask: boolean;
  readonly #runAllLimit: number;
  #now: number;
  #seq = 0;
  #timers = new Map<VirtualTimerId, Timer>();
  #running = false;
  #fired = 0;

  constructor(options: VirtualClockOptions = {}) {
    this.#start = options.start ?? DEFAULT_EPOCH_MS;
    this.#turns = options.microtaskTurns ?? 100;
    this.#macrotask = options.yieldMacrotask ?? false;
    this.#runAllLimit = options.runAllLimit ?? 100_000;
    this.#now = this.#start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerId {
    return this.#add(callback, ms, undefined);
  }

  clearTimeout(id: TimerId): void {
    if (id instanceof VirtualTimerId) this.#timers.delete(id);
  }

  /** Periods below 1 ms are raised to 1 ms so an interval can never stall time. */
  setInterval(callback: () => void, ms: number): TimerId {
    return this.#add(callback, ms, Math.max(1, sanitize(ms)));
  }

  clearInterval(id: TimerId): void {
    this.clearTimeout(id);
  }

  /** Number of armed timers (timeouts not yet fired plus intervals). */
  pending(): number {
    return this.#timers.size;
  }

  /** Total timer callbacks fired since construction or `reset()`. */
  firedCount(): number {
    return this.#fired;
  }

  /** Due time of the next timer, or undefined when none is armed. */
  nextDue(): number | undefined {
    return this.#next()?.due;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. Resolves with the number fired. */
  advance(ms: number): Promise<number> {
    return this.runUntil(this.#now + sanitize(ms));
  }

  /** Moves time forward to `t` (no-op if `t` is in the past), firing every timer due on the way. */
  async runUntil(t: number): Promise<number> {
    return this.#run(async () => {
      let fired = 0;
      for (let timer = this.#next(); timer !== undefined && timer.due <= t; timer = this.#next()) {
        await this.#fire(timer);
        fired++;
      }
      if (t > this.#now) this.#now = t;
      await this.settle();
      return fired;
    });
  }

  /**
   * Fires timers until none is armed. Rejects HalError 'timeout' after
   * `runAllLimit` timers, which is what a live interval causes.
   */
  async runAll(): Promise<number> {
    return this.#run(async () => {
      let fired = 0;
      for (let timer = this.#next(); timer !== undefined; timer = this.#next()) {
        if (fired >= this.#runAllLimit) {
          throw new HalError('timeout', `runAll: still ${this.#timers.size} timer(s) after ${fired} fired`);
        }
        await this.#fire(timer);
        fired++;
      }
      await this.settle();
      return fired;
    });
  }

  /** Yields to pending microtasks (and one macrotask if configured) without moving time. */
  async settle(): Promise<void> {
    for (let i = 0; i < this.#turns; i++) await Promise.resolve();
    if (this.#macrotask) {
      await new Promise<void>((resolve) => yieldMacrotask(resolve));
      for (let i = 0; i < this.#turns; i++) await Promise.resolve();
    }
  }

  /** Power loss: cancels every timer (hal Clock promise); time keeps its value. */
  cancelAll(): void {
    this.#timers.clear();
  }

  /** Back to the initial time (or `start`), no timers, counters zeroed. */
  reset(start: number = this.#start): void {
    this.#timers.clear();
    this.#now = start;
    this.#seq = 0;
    this.#fired = 0;
    this.#running = false;
  }

  #add(callback: () => void, ms: number, period: number | undefined): VirtualTimerId {
    const handle = new VirtualTimerId(++this.#seq);
    const delay = period ?? sanitize(ms);
    this.#timers.set(handle, { handle, callback, due: this.#now + delay, seq: this.#seq, period });
    return handle;
  }

  #next(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.#timers.values()) {
      if (best === undefined || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) {
        best = timer;
      }
    }
    return best;
  }

  async #fire(timer: Timer): Promise<void> {
    if (timer.due > this.#now) this.#now = timer.due;
    if (timer.period === undefined) {
      this.#timers.delete(timer.handle);
    } else {
      timer.due += timer.period;
    }
    this.#fired++;
    timer.callback();
    await this.settle();
  }

  async #run<T>(body: () => Promise<T>): Promise<T> {
    if (this.#running) throw new HalError('busy', 'VirtualClock is already advancing');
    this.#running = true;
    try {
      return await body();
    } finally {
      this.#running = false;
    }
  }
}

function sanitize(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function yieldMacrotask(resolve: () => void): void {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (g.setImmediate) g.setImmediate(resolve);
  else globalThis.setTimeout(resolve, 0);
}
