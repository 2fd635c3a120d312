import type { Unsubscribe } from './errors.js';

export interface LinkState {
  up: boolean;
  /** Received signal strength in dBm, when the radio reports one. */
  signalDbm?: number;
  /** True when traffic costs the user (cellular data). */
  metered: boolean;
}

/**
 * A duplex byte stream to the server (MQTT runs over it).
 *
 * Promises: bytes arrive in order, without duplication, or the stream
 * closes. After 'close' no more data is delivered and `write` rejects
 * 'link-down'. `close()` is idempotent.
 */
export interface ByteStream {
  write(bytes: Uint8Array): Promise<void>;
  onData(listener: (bytes: Uint8Array) => void): Unsubscribe;
  /** Fires once, with the error when the link broke rather than being closed. */
  onClose(listener: (error?: Error) => void): Unsubscribe;
  close(): void;
}

/**
 * The wireless network interface 4 (FIG. 3): link status and a way to reach
 * the server. `open()` rejects HalError 'link-down' when there is no link and
 * 'timeout' when the server does not answer in time.
 */
export interface RadioLink {
  state(): LinkState;
  onState(listener: (state: LinkState) => void): Unsubscribe;
  open(): Promise<ByteStream>;
}
