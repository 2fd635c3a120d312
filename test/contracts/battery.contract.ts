import { describe, expect, it } from 'vitest';
import { type Battery, type BatteryReading, isHalError } from '../../hal/index.js';
import { eachFresh } from './wait.js';

export interface BatteryUnderTest {
  /** Reading 50 %, not charging, when handed over. */
  battery: Battery;
  /** Makes the hardware report `percent` (and `charging`): the simulation's level, the modem's +CBC, the sysfs files. */
  setLevel: (percent: number, charging?: boolean) => Promise<void>;
  /**
   * Lets the battery notice the hardware as it is now: one poll of a
   * polling implementation has run to its end (a barrier, not a sleep);
   * nothing for one that is told at once. Called only while a listener is
   * subscribed (a polling battery polls only then).
   */
  settle: () => Promise<void>;
  /** Makes the next reads fail the way this hardware fails (no battery, an answer that never comes). */
  fail: () => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

/** What `read()` may reject with (hal/battery.ts BatteryErrorKind). */
const BATTERY_KINDS = ['timeout', 'device-unavailable', 'not-supported', 'busy', 'other'] as const;

/**
 * The shared Battery contract (hal/battery.ts): readings, and `onLow`
 * firing on each fall to or below the threshold, once, never for a level
 * that was already low, never after its Unsubscribe. Run against the
 * simulated battery, the modem's AT+CBC and Linux sysfs.
 */
export function describeBatteryContract(name: string, makeBattery: () => Promise<BatteryUnderTest>): void {
  describe(`Battery contract: ${name}`, () => {
    let ut: BatteryUnderTest;
    let lows: BatteryReading[];
    const watch = (threshold: number) => {
      const mine = lows;
      return ut.battery.onLow(threshold, (r) => mine.push(r));
    };
    const level = async (percent: number, charging?: boolean) => {
      await ut.setLevel(percent, charging);
      await ut.settle();
    };

    eachFresh(makeBattery, (made) => {
      ut = made;
      lows = [];
    });

    it('reads the level in percent and whether external power is on', async () => {
      expect(await ut.battery.read()).toEqual({ percent: 50, charging: false });
      await ut.setLevel(64, true);
      expect(await ut.battery.read()).toEqual({ percent: 64, charging: true });
      await ut.setLevel(0, false);
      expect(await ut.battery.read()).toEqual({ percent: 0, charging: false });
    });

    it('FIG. 22: onLow fires once when the level falls to the threshold, not again while it stays low', async () => {
      const off = watch(20);
      await ut.settle();
      await level(35);
      expect(lows).toEqual([]);
      await level(20);
      expect(lows).toEqual([{ percent: 20, charging: false }]);
      await level(12);
      await level(8);
      expect(lows).toHaveLength(1);
      off();
    });

    it('fires again only after the level rose above the threshold and fell again', async () => {
      const off = watch(20);
      await ut.settle();
      await level(15);
      await level(21);
      await level(19);
      expect(lows.map((r) => r.percent)).toEqual([15, 19]);
      off();
    });

    it('a listener added while the level is low waits for a rise and a fall', async () => {
      await ut.setLevel(10);
      const off = watch(20);
      await ut.settle();
      await level(5);
      expect(lows).toEqual([]);
      await level(60);
      await level(18);
      expect(lows.map((r) => r.percent)).toEqual([18]);
      off();
    });

    it('each listener keeps its own threshold; an unsubscribed one never fires', async () => {
      // Never fires (no level is below 0); keeps a polling battery polling once the others are gone.
      const offKeeper = watch(-1);
      const other: number[] = [];
      const off = watch(20);
      const offOther = ut.battery.onLow(40, (r) => other.push(r.percent));
      await ut.settle();
      offOther();
      await level(30);
      await level(15);
      expect(other).toEqual([]);
      expect(lows.map((r) => r.percent)).toEqual([15]);
      off();
      await level(60);
      await level(10);
      expect(lows.map((r) => r.percent)).toEqual([15]);
      offKeeper();
    });

    it('a read that cannot be made rejects with a battery kind', async () => {
      await ut.fail();
      const error = await ut.battery.read().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isHalError(error, ...BATTERY_KINDS)).toBe(true);
    });
  });
}
