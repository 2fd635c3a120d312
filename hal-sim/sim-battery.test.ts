import { describe, expect, it } from 'vitest';
import { type BatteryReading, isHalError } from '../hal/index.js';
import { SimBattery } from './sim-battery.js';
import { VirtualClock } from './virtual-clock.js';

describe('SimBattery', () => {
  it('reads the level and charging state that were set, clamped to 0–100', async () => {
    const battery = new SimBattery({ percent: 80 });
    expect(await battery.read()).toEqual({ percent: 80, charging: false });
    battery.set(120, true);
    expect(await battery.read()).toEqual({ percent: 100, charging: true });
    battery.set(-5);
    expect(await battery.read()).toEqual({ percent: 0, charging: true });
  });

  it('FIG. 22: onLow fires once when the level falls to the threshold, again only after rising above it', () => {
    const battery = new SimBattery({ percent: 50 });
    const lows: BatteryReading[] = [];
    battery.onLow(20, (r) => lows.push(r));
    battery.set(30);
    battery.set(20);
    battery.set(10);
    battery.set(20);
    expect(lows).toEqual([{ percent: 20, charging: false }]);
    battery.set(21, true);
    battery.set(15, false);
    expect(lows.map((r) => r.percent)).toEqual([20, 15]);
  });

  it('a listener added while already low waits for the next downward crossing', () => {
    const battery = new SimBattery({ percent: 10 });
    let fired = 0;
    battery.onLow(20, () => fired++);
    battery.set(5);
    expect(fired).toBe(0);
    battery.set(50);
    battery.set(19);
    expect(fired).toBe(1);
  });

  it('unsubscribing stops notifications', () => {
    const battery = new SimBattery();
    let fired = 0;
    const off = battery.onLow(50, () => fired++);
    off();
    battery.set(10);
    expect(fired).toBe(0);
  });

  it('plays a scripted discharge curve on the virtual clock', async () => {
    const clock = new VirtualClock({ start: 0 });
    const battery = new SimBattery({ clock, percent: 40 });
    const lows: number[] = [];
    battery.onLow(15, () => lows.push(clock.now()));
    battery.script([
      { atMs: 60_000, percent: 30 },
      { atMs: 120_000, percent: 15 },
      { atMs: 180_000, percent: 60, charging: true },
    ]);
    await clock.advance(60_000);
    expect((await battery.read()).percent).toBe(30);
    await clock.advance(60_000);
    expect(lows).toEqual([120_000]);
    await clock.advance(60_000);
    expect(await battery.read()).toEqual({ percent: 60, charging: true });
  });

  it("script without a clock rejects 'not-supported'", () => {
    const battery = new SimBattery();
    let error: unknown;
    try {
      battery.script([{ atMs: 1, percent: 1 }]);
    } catch (e) {
      error = e;
    }
    expect(isHalError(error, 'not-supported')).toBe(true);
  });

  it('injected read failures reject with the given kind; reset() clears them and the curve', async () => {
    const clock = new VirtualClock({ start: 0 });
    const battery = new SimBattery({ clock, percent: 70 });
    battery.failReads('timeout');
    await expect(battery.read()).rejects.toMatchObject({ kind: 'timeout' });
    battery.script([{ atMs: 10, percent: 1 }]);
    battery.reset();
    await clock.advance(100);
    expect(await battery.read()).toEqual({ percent: 70, charging: false });
    expect(battery.readCount()).toBe(1);
  });
});
