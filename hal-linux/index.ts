/** Host implementations of the HAL (DESIGN.md "Layers"). */
export { FileNvStore, type FileNvStoreOptions, type FileNvStoreStats } from './file-nv-store.js';
export { SystemClock } from './system-clock.js';
export { socketStream, TcpLink, type TcpLinkOptions } from './tcp-link.js';
