import {
  type Battery,
  type BatteryErrorKind,
  type BatteryReading,
  type Clock,
  HalError,
  type TimerId,
  type Unsubscribe,
} from '../hal/index.js';

export interface SimBatteryOptions {
  /** Drives `script()`; only needed for scripted curves. */
  clock?: Clock;
  /** Initial level, 0–100. Default 100. */
  percent?: number;
  /** Initially on external power. Default false. */
  charging?: boolean;
}

/** One point of a scripted battery curve. */
export interface BatteryStep {
  /** When the level changes, in ms after `script()` was called. */
  atMs: number;
  percent: number;
  /** Unchanged when omitted. */
  charging?: boolean;
}

interface LowWatch {
  threshold: number;
  listener: (reading: BatteryReading) => void;
  /** True while the level is above the threshold, i.e. the next fall may fire. */
  armed: boolean;
}

/**
 * Battery with a level set by the test, directly or as a curve stepped by
 * the clock (FIG. 22 checks the level before and after sync).
 *
 * `onLow` is edge-triggered per listener: it fires when the level falls from
 * above the threshold to at or below it. A listener added while the level is
 * already low does not fire until the level has risen above the threshold
 * and fallen again. Listeners run synchronously inside `set()`.
 */
export class SimBattery implements Battery {
  readonly #clock: Clock | undefined;
  readonly #initial: BatteryReading;
  #reading: BatteryReading;
  #watches = new Set<LowWatch>();
  #timers: TimerId[] = [];
  #failReads: BatteryErrorKind | undefined;
  #reads = 0;

  constructor(options: SimBatteryOptions = {}) {
    this.#clock = options.clock;
    this.#initial = { percent: clampPercent(options.percent ?? 100), charging: options.charging ?? false };
    this.#reading = { ...this.#initial };
  }

  async read(): Promise<BatteryReading> {
    this.#reads++;
    if (this.#failReads !== undefined) throw new HalError(this.#failReads, 'battery read failed (injected)');
    return { ...this.#reading };
  }

  onLow(thresholdPercent: number, listener: (reading: BatteryReading) => void): Unsubscribe {
    const watch: LowWatch = {
      threshold: thresholdPercent,
      listener,
      armed: this.#reading.percent > thresholdPercent,
    };
    this.#watches.add(watch);
    return () => {
      this.#watches.delete(watch);
    };
  }

  /** Sets the level now (clamped to 0–100); fires `onLow` listeners whose threshold was crossed downwards. */
  set(percent: number, charging: boolean = this.#reading.charging): void {
    this.#reading = { percent: clampPercent(percent), charging };
    for (const watch of [...this.#watches]) {
      if (this.#reading.percent > watch.threshold) {
        watch.armed = true;
      } else if (watch.armed) {
        watch.armed = false;
        watch.listener({ ...this.#reading });
      }
    }
  }

  /** Plays a curve on the clock, replacing any curve still playing. */
  script(steps: readonly BatteryStep[]): void {
    const clock = this.#clock;
    if (clock === undefined) throw new HalError('not-supported', 'SimBattery.script needs a clock');
    this.#stopScript();
    for (const step of steps) {
      this.#timers.push(
        clock.setTimeout(() => this.set(step.percent, step.charging), Math.max(0, step.atMs)),
      );
    }
  }

  /** Makes every `read()` reject with `kind` (e.g. 'timeout'), until `failReads(undefined)`. */
  failReads(kind: BatteryErrorKind | undefined): void {
    this.#failReads = kind;
  }

  /** How many times `read()` was called. */
  readCount(): number {
    return this.#reads;
  }

  /** Initial level, no curve, no faults, no listeners, counters zeroed. */
  reset(): void {
    this.#stopScript();
    this.#watches.clear();
    this.#reading = { ...this.#initial };
    this.#failReads = undefined;
    this.#reads = 0;
  }

  #stopScript(): void {
    for (const id of this.#timers) this.#clock?.clearTimeout(id);
    this.#timers = [];
  }
}

function clampPercent(percent: number): number {
  return Math.min(100, Math.max(0, percent));
}
