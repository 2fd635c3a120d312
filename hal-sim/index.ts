/**
 * Simulated hardware for tests, demos and benches (DESIGN.md "Layers"), with
 * explicit fault injection. Every fake implements a hal/ interface, records
 * its traffic and has `reset()`.
 */

export type { LinkCounters, LinkStream } from './link-stream.js';
export {
  type PromptKind,
  type PromptRecord,
  type ScriptedAnswers,
  ScriptedUserAgent,
} from './scripted-user-agent.js';
export { type BatteryStep, SimBattery, type SimBatteryOptions } from './sim-battery.js';
export { SimCardReader, type SimCardReaderOptions } from './sim-card-reader.js';
export { BUSY_STATE, SimIdleSensor } from './sim-idle-sensor.js';
export {
  type NvStoreStats,
  type PowerCutOptions,
  SimNvStore,
  type SimNvStoreOptions,
} from './sim-nv-store.js';
export {
  createDuplexPair,
  type PipeChunk,
  type PipeDirection,
  type PipeStats,
  SimPipe,
  type SimPipeOptions,
} from './sim-pipe.js';
export { type RadioLinkStats, SimRadioLink, type SimRadioLinkOptions } from './sim-radio-link.js';
export {
  type ApduRecord,
  type CardChip,
  type PoweredCard,
  SimSlot,
  type SimSlotOptions,
  type SlotTransport,
  type YankOptions,
} from './sim-slot.js';
export type { SimStreamEnd } from './sim-stream-end.js';
export { DEFAULT_EPOCH_MS, VirtualClock, type VirtualClockOptions, VirtualTimerId } from './virtual-clock.js';
