import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Clock, sleep } from '../../hal/index.js';

export interface ClockUnderTest {
  clock: Clock;
  /** Lets `ms` of the clock's time pass: a virtual clock advances, a real one waits. */
  advance: (ms: number) => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

/** The shared Clock contract (hal/clock.ts). Delays are short so real clocks run it quickly. */
export function describeClockContract(name: string, makeClock: () => Promise<ClockUnderTest>): void {
  describe(`Clock contract: ${name}`, () => {
    let clock: Clock;
    let advance: (ms: number) => Promise<void>;
    let cleanup: (() => Promise<void> | void) | undefined;

    beforeEach(async () => {
      ({ clock, advance, cleanup } = await makeClock());
    });

    afterEach(async () => {
      await cleanup?.();
    });

    it('now() is milliseconds since the epoch and never goes backwards', async () => {
      const first = clock.now();
      expect(first).toBeGreaterThan(Date.UTC(2000, 0, 1));
      await advance(5);
      expect(clock.now()).toBeGreaterThanOrEqual(first);
    });

    it('fires timers in order of due time, ties in order of creation', async () => {
      const order: string[] = [];
      clock.setTimeout(() => order.push('late'), 30);
      clock.setTimeout(() => order.push('tie-1'), 10);
      clock.setTimeout(() => order.push('tie-2'), 10);
      clock.setTimeout(() => order.push('zero'), 0);
      await advance(60);
      expect(order).toEqual(['zero', 'tie-1', 'tie-2', 'late']);
    });

    it('never fires a timer before now() reaches its due time', async () => {
      const setAt = clock.now();
      let firedAt: number | undefined;
      clock.setTimeout(() => {
        firedAt = clock.now();
      }, 20);
      await advance(40);
      expect(firedAt).toBeDefined();
      expect(firedAt! - setAt).toBeGreaterThanOrEqual(20);
    });

    it('a cleared timeout never fires; clearing unknown or fired ids is a no-op', async () => {
      let fired = 0;
      const id = clock.setTimeout(() => fired++, 10);
      clock.clearTimeout(id);
      const done = clock.setTimeout(() => fired++, 5);
      await advance(30);
      clock.clearTimeout(done);
      clock.clearTimeout(id);
      expect(fired).toBe(1);
    });

    it('an interval repeats until cleared', async () => {
      let ticks = 0;
      const id = clock.setInterval(() => ticks++, 10);
      await advance(55);
      clock.clearInterval(id);
      const atClear = ticks;
      await advance(40);
      expect(atClear).toBeGreaterThanOrEqual(3);
      expect(ticks).toBe(atClear);
    });

    it('sleep(clock, ms) resolves once the time has passed', async () => {
      let resolved = false;
      void sleep(clock, 10).then(() => {
        resolved = true;
      });
      await advance(30);
      expect(resolved).toBe(true);
    });
  });
}
