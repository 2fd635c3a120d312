import { type Clock, HalError, type TimerId } from '../hal/index.js';

/**
 * Runs an async `tick` every `intervalMs` on a hal Clock while started. A
 * tick still running when the next is due is not overlapped: that beat is
 * skipped. A tick's rejection is swallowed; the tick reports its own errors.
 */
export class PollLoop {
  #timer: TimerId | undefined;
  #busy = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void>,
  ) {}

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.clock.setInterval(() => void this.#beat(), this.intervalMs);
  }

  stop(): void {
    if (this.#timer === undefined) return;
    this.clock.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #beat(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await this.tick();
    } catch {
      // The tick decides what an error means; the loop goes on.
    } finally {
      this.#busy = false;
    }
  }
}

/** Rejects HalError 'timeout' when `work` has not settled within `ms` of `clock` time. */
export function withTimeout<T>(clock: Clock, ms: number, what: string, work: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(
      () => reject(new HalError('timeout', `${what}: no answer in ${ms} ms`)),
      ms,
    );
    work.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
