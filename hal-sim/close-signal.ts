import type { HalError, LinkErrorKind, Unsubscribe } from '../hal/index.js';

/**
 * The close side of a simulated ByteStream (hal/radio-link.ts): it closes
 * once, with a HalError or none for an orderly close. Each listener hears
 * that once, from a microtask, never from inside the call that closed it; a
 * listener added after the close still hears it.
 */
export class CloseSignal {
  readonly #listeners = new Set<(error?: HalError<LinkErrorKind>) => void>();
  #closed = false;
  #error: HalError<LinkErrorKind> | undefined;

  get closed(): boolean {
    return this.#closed;
  }

  listen(listener: (error?: HalError<LinkErrorKind>) => void): Unsubscribe {
    if (this.#closed) {
      const error = this.#error;
      queueMicrotask(() => listener(error));
      return () => {};
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Closes with `error`: the listeners hear it in a microtask queued now, so
   * after any queued before. False, and nothing heard, when already closed.
   */
  close(error?: HalError<LinkErrorKind>): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#error = error;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    queueMicrotask(() => {
      for (const listener of listeners) listener(error);
    });
    return true;
  }
}
