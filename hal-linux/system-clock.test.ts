import { afterEach, describe, expect, it, vi } from 'vitest';
import { delay } from '../test/contracts/wait.js';
import { SystemClock } from './system-clock.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SystemClock against a wall clock that lags Node’s timers', () => {
  it('two ties fire in order of creation even when the first fires early and the second does not', async () => {
    // Node's timer for both fires at 10 ms; Date.now() still says 9 ms for its first read there and 10 after:
    // a timer per timeout re-armed the early first behind the second (a CI run saw tie-2, tie-1).
    let wall = 1000;
    let reads = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => {
      if (wall === 1000) return wall;
      return reads++ === 0 ? 1009 : 1010;
    });
    const clock = new SystemClock();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['tie-1', Date.now()]), 10);
    clock.setTimeout(() => fired.push(['tie-2', Date.now()]), 10);
    wall = 1010;
    await delay(40);
    expect(fired.map(([name]) => name)).toEqual(['tie-1', 'tie-2']);
    for (const [, at] of fired) expect(at).toBeGreaterThanOrEqual(1010);
  });

  it('a timeout cleared by an earlier callback of the same turn does not fire', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    let second: unknown;
    clock.setTimeout(() => {
      fired.push('first');
      clock.clearTimeout(second as never);
    }, 5);
    second = clock.setTimeout(() => fired.push('second'), 5);
    await delay(30);
    expect(fired).toEqual(['first']);
  });

  it('a timeout set from a callback, due at once, waits for the next turn; a throwing callback stops no other', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    const thrown: unknown[] = [];
    const onUncaught = (e: unknown) => thrown.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      clock.setTimeout(() => {
        fired.push('a');
        clock.setTimeout(() => fired.push('c'), 0);
        throw new Error('boom');
      }, 5);
      clock.setTimeout(() => fired.push('b'), 5);
      await delay(40);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(thrown).toEqual([expect.objectContaining({ message: 'boom' })]);
  });

  it('keeps order across many timeouts set in any order, and clears in the middle of the queue', async () => {
    // All set in one millisecond of the wall clock (a real one may tick between two of them: a CI run
    // saw 9 ms set at 1000 tie with 8 ms set at 1001), then the wall clock runs with Node's.
    const start = performance.now();
    let setting = true;
    vi.spyOn(Date, 'now').mockImplementation(
      () => 1000 + (setting ? 0 : Math.floor(performance.now() - start)),
    );
    const clock = new SystemClock();
    const fired: number[] = [];
    const ids = [7, 3, 9, 1, 5, 3, 8].map((ms, i) => clock.setTimeout(() => fired.push(i), ms));
    clock.clearTimeout(ids[4] as never);
    setting = false;
    await delay(40);
    // Due 1 (#3), 3 (#1 then #5), 7 (#0), 8 (#6), 9 (#2); #4 (due 5) cleared.
    expect(fired).toEqual([3, 1, 5, 0, 6, 2]);
  });
});
