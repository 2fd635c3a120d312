declare const held: unique symbol;

/**
 * Proof that the code holding it runs inside `Mutex.run`: only the mutex
 * makes one and hands it to its section. A method that must run under the
 * lock takes a `Held` as its first parameter, so calling it elsewhere does
 * not compile (the lock is a type, not a comment).
 */
export interface Held {
  readonly [held]: true;
}

const HELD = Object.freeze({}) as Held;

/** Runs async sections one at a time, in call order. Not reentrant: a section never takes the lock again. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: (held: Held) => Promise<T>): Promise<T> {
    const enter = () => section(HELD);
    const result = this.tail.then(enter, enter);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
