import { describe, expect, it } from 'vitest';
import type { IdleSensor, IdleState } from '../../hal/index.js';
import { eachFresh } from './wait.js';

export interface IdleSensorUnderTest {
  /** Busy, just touched, lid open (`BUSY`) when handed over. */
  sensor: IdleSensor;
  /**
   * Makes the terminal be in `state`, the way this sensor sees it (the
   * simulation's values; the input source, ACPI lid file and foreground
   * predicate of a host), and lets the sensor notice (one poll has run to
   * its end: a barrier, not a sleep).
   */
  set: (state: IdleState) => Promise<void>;
  /** One more poll runs to its end with nothing changed (nothing to do for a sensor that is told at once). */
  settle: () => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

export const BUSY: IdleState = { noForegroundWork: false, msSinceInput: 0, lidClosed: false };
const AWAY: IdleState = { noForegroundWork: true, msSinceInput: 600_000, lidClosed: true };

/**
 * The shared IdleSensor contract (hal/idle-sensor.ts), the three conditions
 * of [0081] for FIG. 21: `read()` reports them, `onChange` fires once per
 * change with the new state, never for an unchanged one, never after its
 * Unsubscribe. Run against the simulated sensor and the Linux one.
 */
export function describeIdleSensorContract(name: string, make: () => Promise<IdleSensorUnderTest>): void {
  describe(`IdleSensor contract: ${name}`, () => {
    let ut: IdleSensorUnderTest;
    let heard: IdleState[];

    eachFresh(make, (made) => {
      ut = made;
      heard = [];
    });

    it('[0081]: read() reports each condition as the terminal shows it', async () => {
      expect(await ut.sensor.read()).toEqual(BUSY);
      await ut.set(AWAY);
      expect(await ut.sensor.read()).toEqual(AWAY);
      for (const one of [{ lidClosed: false }, { noForegroundWork: false }, { msSinceInput: 1500 }]) {
        await ut.set({ ...AWAY, ...one });
        expect(await ut.sensor.read()).toEqual({ ...AWAY, ...one });
      }
    });

    it('FIG. 21: onChange fires once per change, with the new state; subscribing alone reports nothing', async () => {
      const off = ut.sensor.onChange((s) => heard.push(s));
      await ut.settle();
      expect(heard).toEqual([]);
      await ut.set({ ...BUSY, lidClosed: true });
      await ut.set(AWAY);
      expect(heard).toEqual([{ ...BUSY, lidClosed: true }, AWAY]);
      off();
    });

    it('nothing changed, nothing heard', async () => {
      const off = ut.sensor.onChange((s) => heard.push(s));
      await ut.settle();
      await ut.set(AWAY);
      await ut.settle();
      await ut.set(AWAY);
      await ut.settle();
      expect(heard).toEqual([AWAY]);
      off();
    });

    it('an unsubscribed listener hears nothing more; read() still follows', async () => {
      const off = ut.sensor.onChange((s) => heard.push(s));
      await ut.settle();
      off();
      await ut.set(AWAY);
      expect(heard).toEqual([]);
      expect(await ut.sensor.read()).toEqual(AWAY);
    });
  });
}
