/** Host implementations of the HAL (DESIGN.md "Layers"). */
export { FileNvStore, type FileNvStoreOptions, type FileNvStoreStats } from './file-nv-store.js';
export {
  combinedIdleSource,
  defaultIdleSource,
  type InputIdleSource,
  interruptsIdleSource,
  ttyIdleSource,
  xprintidleSource,
} from './input-idle.js';
export { type LinkFromUrlOptions, linkFromUrl } from './link-from-url.js';
export { LinuxIdleSensor, type LinuxIdleSensorOptions } from './linux-idle-sensor.js';
export { SysfsBattery, type SysfsBatteryOptions } from './sysfs-battery.js';
export { SystemClock } from './system-clock.js';
export { type LinkTlsOptions, socketStream, TcpLink, type TcpLinkOptions } from './tcp-link.js';
export { WsLink, type WsLinkOptions, websocketStream } from './ws-link.js';
