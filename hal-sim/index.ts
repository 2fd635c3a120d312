/**
 * Simulated hardware for tests, demos and benches (DESIGN.md "Layers"), with
 * explicit fault injection. Every fake implements a hal/ interface, records
 * its traffic and has `reset()`.
 */
export { DEFAULT_EPOCH_MS, VirtualClock, type VirtualClockOptions, VirtualTimerId } from './virtual-clock.js';
