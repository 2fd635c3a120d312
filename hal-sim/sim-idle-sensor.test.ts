import { describe, expect, it } from 'vitest';
import type { IdleState } from '../hal/index.js';
import { BUSY_STATE, SimIdleSensor } from './sim-idle-sensor.js';

describe('SimIdleSensor', () => {
  it('starts busy unless told otherwise and reads what was set', async () => {
    const sensor = new SimIdleSensor();
    expect(await sensor.read()).toEqual(BUSY_STATE);
    sensor.set({ lidClosed: true });
    expect(await sensor.read()).toEqual({ ...BUSY_STATE, lidClosed: true });
    expect(await new SimIdleSensor({ msSinceInput: 5 }).read()).toEqual({ ...BUSY_STATE, msSinceInput: 5 });
  });

  it('FIG. 21: onChange fires once per real change, so waiting for idle needs no polling', () => {
    const sensor = new SimIdleSensor();
    const seen: IdleState[] = [];
    const off = sensor.onChange((s) => seen.push(s));
    sensor.goIdle(600_000);
    sensor.goIdle(600_000);
    sensor.set({ lidClosed: true });
    sensor.goBusy();
    off();
    sensor.goIdle();
    expect(seen).toEqual([{ noForegroundWork: true, msSinceInput: 600_000, lidClosed: true }, BUSY_STATE]);
    expect(sensor.changeCount()).toBe(3);
  });

  it('reset() restores the initial state and drops listeners', async () => {
    const sensor = new SimIdleSensor({ lidClosed: true });
    let calls = 0;
    sensor.onChange(() => calls++);
    sensor.set({ msSinceInput: 99 });
    sensor.reset();
    sensor.set({ msSinceInput: 1 });
    expect(calls).toBe(1);
    sensor.reset();
    expect(await sensor.read()).toEqual({ ...BUSY_STATE, lidClosed: true });
    expect(sensor.changeCount()).toBe(0);
  });
});
