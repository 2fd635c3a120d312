/** Host implementations of the HAL (DESIGN.md "Layers"). */
export { FileNvStore, type FileNvStoreOptions, type FileNvStoreStats } from './file-nv-store.js';
export { SysfsBattery, type SysfsBatteryOptions } from './sysfs-battery.js';
export { SystemClock } from './system-clock.js';
export { socketStream, TcpLink, type TcpLinkOptions } from './tcp-link.js';
