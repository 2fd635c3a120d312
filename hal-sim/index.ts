/**
 * Simulated hardware for tests, demos and benches (DESIGN.md "Layers"), with
 * explicit fault injection. Every fake implements a hal/ interface, records
 * its traffic and has `reset()`.
 */

export { type BatteryStep, SimBattery, type SimBatteryOptions } from './sim-battery.js';
export {
  type NvStoreStats,
  type PowerCutOptions,
  SimNvStore,
  type SimNvStoreOptions,
} from './sim-nv-store.js';
export { DEFAULT_EPOCH_MS, VirtualClock, type VirtualClockOptions, VirtualTimerId } from './virtual-clock.js';
