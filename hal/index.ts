/** The hardware contracts of DESIGN.md ("The HAL contracts"). Interfaces and error types only. */
export type { Battery, BatteryErrorKind, BatteryReading } from './battery.js';
export type {
  AkaResult,
  CardErrorKind,
  CardFilePath,
  CardReader,
  PinResult,
  PinStatus,
  SimCard,
} from './card-reader.js';
export { type Clock, sleep, type TimerId } from './clock.js';
export { HalError, type HalErrorFields, type HalErrorKind, isHalError, type Unsubscribe } from './errors.js';
export type { IdleErrorKind, IdleSensor, IdleState } from './idle-sensor.js';
export type { NvEntry, NvOp, NvStore, StoreErrorKind } from './nv-store.js';
export type { ByteStream, LinkErrorKind, LinkState, RadioLink } from './radio-link.js';
export type { Notice, UserAgent } from './user-agent.js';
