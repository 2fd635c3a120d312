import type { IdleSensor, IdleState, Unsubscribe } from '../hal/index.js';

/** Busy, just touched, lid open: the state of a terminal in use. */
export const BUSY_STATE: Readonly<IdleState> = Object.freeze({
  noForegroundWork: false,
  msSinceInput: 0,
  lidClosed: false,
});

/**
 * The idle conditions of [0081] (FIG. 21), set by the test. `msSinceInput`
 * is a plain value, not a running clock: it changes only when set, so
 * `onChange` fires exactly once per `set()` that changes something.
 * Listeners run synchronously inside `set()`.
 */
export class SimIdleSensor implements IdleSensor {
  readonly #initial: IdleState;
  #state: IdleState;
  #listeners = new Set<(state: IdleState) => void>();
  #changes = 0;

  constructor(initial: Partial<IdleState> = {}) {
    this.#initial = { ...BUSY_STATE, ...initial };
    this.#state = { ...this.#initial };
  }

  async read(): Promise<IdleState> {
    return { ...this.#state };
  }

  onChange(listener: (state: IdleState) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Changes some conditions; notifies listeners when anything actually changed. */
  set(patch: Partial<IdleState>): void {
    const next = { ...this.#state, ...patch };
    const s = this.#state;
    if (
      next.noForegroundWork === s.noForegroundWork &&
      next.msSinceInput === s.msSinceInput &&
      next.lidClosed === s.lidClosed
    ) {
      return;
    }
    this.#state = next;
    this.#changes++;
    for (const listener of [...this.#listeners]) listener({ ...next });
  }

  /** All three conditions met: no foreground work, no input for `msSinceInput`, lid closed. */
  goIdle(msSinceInput = 10 * 60_000): void {
    this.set({ noForegroundWork: true, msSinceInput, lidClosed: true });
  }

  /** The user picked the terminal up. */
  goBusy(): void {
    this.set(BUSY_STATE);
  }

  /** How many changes were reported. */
  changeCount(): number {
    return this.#changes;
  }

  /** Initial state, no listeners, counter zeroed. */
  reset(): void {
    this.#state = { ...this.#initial };
    this.#listeners.clear();
    this.#changes = 0;
  }
}
