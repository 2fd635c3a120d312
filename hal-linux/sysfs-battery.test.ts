import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BatteryReading, isHalError } from '../hal/index.js';
import { VirtualClock } from '../hal-sim/index.js';
import { describeBatteryContract } from '../test/contracts/battery.contract.js';
import { waitFor } from '../test/contracts/wait.js';
import { SysfsBattery } from './sysfs-battery.js';

/** Writes a power_supply class tree as the kernel lays it out (one file per attribute, newline-terminated). */
async function supply(
  root: string,
  name: string,
  attributes: Record<string, string | number>,
): Promise<void> {
  await mkdir(path.join(root, name), { recursive: true });
  for (const [file, value] of Object.entries(attributes)) {
    await writeFile(path.join(root, name, file), `${value}\n`);
  }
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describeBatteryContract('SysfsBattery on a fake /sys/class/power_supply', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'simsync-sysfs-'));
  const clock = new VirtualClock();
  const setLevel = (percent: number, charging = false) =>
    supply(root, 'BAT0', {
      type: 'Battery',
      present: 1,
      status: charging ? 'Charging' : 'Discharging',
      capacity: percent,
    });
  await setLevel(50);
  const battery = new SysfsBattery({ clock, root, pollMs: 1000 });
  return {
    battery,
    setLevel,
    // The clock's beat starts a poll; polls run one at a time, so the next one ends after it.
    settle: async () => {
      await clock.advance(1000);
      await battery.poll();
    },
    fail: () => rm(path.join(root, 'BAT0'), { recursive: true, force: true }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('SysfsBattery on a fake /sys/class/power_supply', () => {
  let root: string;
  let clock: VirtualClock;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'simsync-sysfs-'));
    clock = new VirtualClock();
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const battery = (options: { supply?: string } = {}) =>
    new SysfsBattery({ clock, root, pollMs: 1000, ...options });

  it('reads capacity, and charging from AC online', async () => {
    await supply(root, 'BAT0', { type: 'Battery', present: 1, status: 'Discharging', capacity: 57 });
    await supply(root, 'AC', { type: 'Mains', online: 0 });
    expect(await battery().read()).toEqual({ percent: 57, charging: false });
    await supply(root, 'AC', { online: 1 });
    expect(await battery().read()).toEqual({ percent: 57, charging: true });
  });

  it('counts Charging, Full and Not charging as external power without an AC supply', async () => {
    for (const [status, charging] of [
      ['Discharging', false],
      ['Charging', true],
      ['Full', true],
      ['Not charging', true],
      ['Unknown', false],
    ] as const) {
      await supply(root, 'BAT0', { type: 'Battery', status, capacity: 80 });
      expect((await battery().read()).charging, status).toBe(charging);
    }
  });

  it('computes the level from energy_now/energy_full when there is no capacity file', async () => {
    await supply(root, 'BAT0', {
      type: 'Battery',
      status: 'Discharging',
      energy_now: 30_000_000,
      energy_full: 40_000_000,
    });
    expect(await battery().read()).toEqual({ percent: 75, charging: false });
  });

  it('combines two batteries weighted by their full energy; ignores device batteries', async () => {
    await supply(root, 'BAT0', {
      type: 'Battery',
      status: 'Discharging',
      capacity: 100,
      energy_full: 30_000_000,
    });
    await supply(root, 'BAT1', {
      type: 'Battery',
      status: 'Discharging',
      capacity: 20,
      energy_full: 10_000_000,
    });
    await supply(root, 'hidpp_battery_0', { type: 'Battery', scope: 'Device', capacity: 1 });
    expect((await battery().read()).percent).toBe(80);
    expect((await battery({ supply: 'BAT1' }).read()).percent).toBe(20);
  });

  it("no battery (a desktop with only AC) rejects 'device-unavailable'; so does a missing tree", async () => {
    await supply(root, 'AC', { type: 'Mains', online: 1 });
    await supply(root, 'BAT0', { type: 'Battery', present: 0 });
    expect(isHalError(await rejection(battery().read()), 'device-unavailable')).toBe(true);
    expect(isHalError(await rejection(battery({ supply: 'BAT9' }).read()), 'device-unavailable')).toBe(true);
    const missing = new SysfsBattery({ clock, root: path.join(root, 'nope') });
    expect(isHalError(await rejection(missing.read()), 'device-unavailable')).toBe(true);
  });

  it("a malformed capacity rejects 'device-unavailable' rather than guessing", async () => {
    await supply(root, 'BAT0', { type: 'Battery', capacity: 'lots' });
    expect(isHalError(await rejection(battery().read()), 'device-unavailable')).toBe(true);
  });

  it('FIG. 22: onLow fires once when the level falls to the threshold, again only after a rise', async () => {
    await supply(root, 'BAT0', { type: 'Battery', status: 'Discharging', capacity: 30 });
    const watched = battery();
    const heard: BatteryReading[] = [];
    const stop = watched.onLow(20, (r) => heard.push(r));
    for (const capacity of [25, 20, 15, 10, 21, 19]) {
      await supply(root, 'BAT0', { capacity });
      await watched.poll();
    }
    expect(heard).toEqual([
      { percent: 20, charging: false },
      { percent: 19, charging: false },
    ]);
    stop();
  });

  it('polls on the clock while it has listeners, and stops when the last one leaves', async () => {
    await supply(root, 'BAT0', { type: 'Battery', status: 'Discharging', capacity: 50 });
    const watched = battery();
    const heard: BatteryReading[] = [];
    const stop = watched.onLow(20, (r) => heard.push(r));
    await watched.poll();
    await supply(root, 'BAT0', { capacity: 12 });
    await clock.advance(1000);
    await waitFor(() => heard.length === 1, { what: 'low event from a clock-driven poll' });
    expect(heard).toEqual([{ percent: 12, charging: false }]);
    stop();
    expect(clock.pending()).toBe(0);
  });

  it('a listener added while the level is already low does not fire until it rises and falls', async () => {
    await supply(root, 'BAT0', { type: 'Battery', status: 'Discharging', capacity: 5 });
    const watched = battery();
    const heard: BatteryReading[] = [];
    const stop = watched.onLow(20, (r) => heard.push(r));
    await watched.poll();
    await watched.poll();
    expect(heard).toEqual([]);
    await supply(root, 'BAT0', { capacity: 50 });
    await watched.poll();
    await supply(root, 'BAT0', { capacity: 20 });
    await watched.poll();
    expect(heard).toEqual([{ percent: 20, charging: false }]);
    stop();
  });
});
