import { describe, expect, it } from 'vitest';
import { isHalError, sleep } from '../hal/index.js';
import { DEFAULT_EPOCH_MS, VirtualClock } from './virtual-clock.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('VirtualClock', () => {
  it('starts at the fixed epoch and moves only when advanced', async () => {
    const clock = new VirtualClock();
    expect(clock.now()).toBe(DEFAULT_EPOCH_MS);
    await clock.advance(1500);
    expect(clock.now()).toBe(DEFAULT_EPOCH_MS + 1500);
  });

  it('fires timers in due order, ties in creation order', async () => {
    const clock = new VirtualClock({ start: 0 });
    const order: string[] = [];
    clock.setTimeout(() => order.push('c@30'), 30);
    clock.setTimeout(() => order.push('a@10'), 10);
    clock.setTimeout(() => order.push('b1@20'), 20);
    clock.setTimeout(() => order.push('b2@20'), 20);
    clock.setTimeout(() => order.push('z@0'), 0);
    const fired = await clock.advance(30);
    expect(fired).toBe(5);
    expect(order).toEqual(['z@0', 'a@10', 'b1@20', 'b2@20', 'c@30']);
  });

  it('never fires a timer before now() reaches its due time', async () => {
    const clock = new VirtualClock({ start: 0 });
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 100);
    await clock.advance(99);
    expect(seen).toEqual([]);
    await clock.advance(1);
    expect(seen).toEqual([100]);
  });

  it('clears timeouts and intervals; clearing unknown or fired ids is a no-op', async () => {
    const clock = new VirtualClock({ start: 0 });
    let count = 0;
    const t = clock.setTimeout(() => count++, 10);
    const i = clock.setInterval(() => count++, 10);
    clock.clearTimeout(t);
    await clock.advance(25);
    expect(count).toBe(2);
    clock.clearInterval(i);
    clock.clearTimeout(t);
    clock.clearTimeout(12345);
    await clock.advance(100);
    expect(count).toBe(2);
    expect(clock.pending()).toBe(0);
  });

  it('lets async work started by a timer schedule further timers within the same advance', async () => {
    const clock = new VirtualClock({ start: 0 });
    const log: number[] = [];
    const chain = async () => {
      for (let step = 0; step < 5; step++) {
        await sleep(clock, 10);
        await Promise.resolve();
        log.push(clock.now());
      }
    };
    clock.setTimeout(() => void chain(), 5);
    await clock.advance(100);
    expect(log).toEqual([15, 25, 35, 45, 55]);
  });

  it('runs a 24-hour schedule of minute intervals and assorted timeouts in order', async () => {
    const clock = new VirtualClock({ start: 0 });
    const events: Array<[string, number]> = [];
    clock.setInterval(() => events.push(['minute', clock.now()]), MINUTE);
    clock.setInterval(() => events.push(['hour', clock.now()]), HOUR);
    for (const h of [0.5, 3, 7.25, 12, 23.99]) {
      clock.setTimeout(() => events.push(['once', clock.now()]), h * HOUR);
    }
    // A self-rescheduling async job, as a sync trigger would be.
    let polls = 0;
    const poll = async () => {
      polls++;
      await Promise.resolve();
      if (polls < 48) clock.setTimeout(() => void poll(), 30 * MINUTE);
    };
    clock.setTimeout(() => void poll(), 30 * MINUTE);

    const fired = await clock.advance(24 * HOUR);

    expect(events.filter(([k]) => k === 'minute')).toHaveLength(24 * 60);
    expect(events.filter(([k]) => k === 'hour')).toHaveLength(24);
    expect(events.filter(([k]) => k === 'once').map(([, t]) => t)).toEqual(
      [0.5, 3, 7.25, 12, 23.99].map((h) => h * HOUR),
    );
    expect(polls).toBe(48);
    expect(fired).toBe(24 * 60 + 24 + 5 + 48);
    const times = events.map(([, t]) => t);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    // At each full hour the minute interval was created first, so it fires first.
    const atOneHour = events.filter(([, t]) => t === HOUR).map(([k]) => k);
    expect(atOneHour).toEqual(['minute', 'hour']);
    expect(clock.now()).toBe(24 * HOUR);
  });

  it('runUntil stops at the given time; runAll drains one-shot timers', async () => {
    const clock = new VirtualClock({ start: 0 });
    const seen: number[] = [];
    for (const t of [10, 20, 30]) clock.setTimeout(() => seen.push(t), t);
    await clock.runUntil(20);
    expect(seen).toEqual([10, 20]);
    expect(clock.nextDue()).toBe(30);
    await clock.runAll();
    expect(seen).toEqual([10, 20, 30]);
    expect(clock.now()).toBe(30);
  });

  it("runAll rejects 'timeout' instead of spinning forever on a live interval", async () => {
    const clock = new VirtualClock({ start: 0, runAllLimit: 50 });
    clock.setInterval(() => {}, 1000);
    const error = await clock.runAll().catch((e: unknown) => e);
    expect(isHalError(error, 'timeout')).toBe(true);
  });

  it("rejects 'busy' when a second advance overlaps the first", async () => {
    const clock = new VirtualClock({ start: 0 });
    clock.setTimeout(() => {}, 10);
    const first = clock.advance(10);
    const error = await clock.advance(10).catch((e: unknown) => e);
    await first;
    expect(isHalError(error, 'busy')).toBe(true);
  });

  it('propagates a throwing callback and stops at its due time', async () => {
    const clock = new VirtualClock({ start: 0 });
    let later = false;
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 10);
    clock.setTimeout(() => {
      later = true;
    }, 20);
    await expect(clock.advance(100)).rejects.toThrow('boom');
    expect(clock.now()).toBe(10);
    expect(later).toBe(false);
  });

  it('cancelAll drops every timer (power loss); reset restores the start state', async () => {
    const clock = new VirtualClock({ start: 1000 });
    let fired = 0;
    clock.setInterval(() => fired++, 10);
    await clock.advance(30);
    clock.cancelAll();
    await clock.advance(100);
    expect(fired).toBe(3);
    expect(clock.firedCount()).toBe(3);
    clock.reset();
    expect(clock.now()).toBe(1000);
    expect(clock.pending()).toBe(0);
    expect(clock.firedCount()).toBe(0);
  });

  it('with yieldMacrotask, lets process.nextTick work finish between timers', async () => {
    const clock = new VirtualClock({ start: 0, yieldMacrotask: true });
    const seen: number[] = [];
    clock.setTimeout(() => {
      process.nextTick(() => clock.setTimeout(() => seen.push(clock.now()), 5));
    }, 10);
    await clock.advance(20);
    expect(seen).toEqual([15]);
  });
});
