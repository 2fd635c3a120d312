import type { HalErrorKind, Unsubscribe } from './errors.js';

/** What a Battery's `read()` rejects with. */
export type BatteryErrorKind = Extract<
  HalErrorKind,
  'timeout' | 'device-unavailable' | 'not-supported' | 'busy' | 'other'
>;

export interface BatteryReading {
  /** Remaining charge, 0–100. */
  percent: number;
  /** True while on external power. */
  charging: boolean;
}

/**
 * Battery remaining amount detecting section 15 (FIG. 3), used by FIG. 22.
 *
 * Promises: `read()` settles promptly (no blocking ADC wait beyond the
 * implementation's timeout, then 'timeout'); it rejects 'device-unavailable'
 * when there is no battery to read and 'not-supported' when the device does
 * not report one (BatteryErrorKind). `onLow` is edge-triggered: it fires when
 * the level falls from above the threshold to at or below it, not again
 * until the level has risen above it and fallen again; a listener added while
 * the level is already low waits for such a fall. A polling implementation
 * notices a change within its poll period. After the returned Unsubscribe is
 * called the listener never fires.
 */
export interface Battery {
  read(): Promise<BatteryReading>;
  onLow(thresholdPercent: number, listener: (reading: BatteryReading) => void): Unsubscribe;
}
