import type { Unsubscribe } from './errors.js';

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
 * implementation's timeout, then 'timeout'). `onLow` is edge-triggered: it
 * fires when the level falls to or below the threshold, not again until the
 * level has risen above it and fallen again.
 */
export interface Battery {
  read(): Promise<BatteryReading>;
  onLow(thresholdPercent: number, listener: (reading: BatteryReading) => void): Unsubscribe;
}
