/** Host implementations of the HAL (DESIGN.md "Layers"). */
export { SystemClock } from './system-clock.js';
export { socketStream, TcpLink, type TcpLinkOptions } from './tcp-link.js';
