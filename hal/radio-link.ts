import type { HalError, HalErrorKind, Unsubscribe } from './errors.js';

/** What a RadioLink and its streams reject or close with. */
export type LinkErrorKind = Extract<
  HalErrorKind,
  'link-down' | 'timeout' | 'not-supported' | 'device-unavailable' | 'other'
>;

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
 * closes; writes may be split or merged on the way. After 'close' no more
 * data is delivered and `write` rejects 'link-down'. `close()` is idempotent.
 */
export interface ByteStream {
  /**
   * Queues `bytes` (copied at the call: the caller may reuse the array) and
   * resolves once they are handed to the transport below — the operating
   * system's socket, or the simulated pipe's wire — not when the peer has
   * them. Writes leave in call order; a write may be called while another
   * is pending.
   *
   * Back-pressure: nothing is dropped. Bytes the transport cannot take yet
   * wait in the stream, and their promise resolves only once handed on, so
   * a writer that awaits each write keeps at most one write waiting.
   *
   * Rejects 'link-down' when the stream is closed, or breaks before the
   * bytes were handed on; a write pending when the stream closes settles
   * then (resolved if its bytes were handed on, else rejected). Bytes of a
   * rejected write may have partly reached the peer.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Data from the peer, in order. Listeners are not called after 'close' or after their Unsubscribe. */
  onData(listener: (bytes: Uint8Array) => void): Unsubscribe;
  /**
   * Fires once: without an error for an orderly close (either end's
   * `close()`), with a HalError ('link-down', …) when the link broke. A
   * listener added after the close hears it too.
   */
  onClose(listener: (error?: HalError<LinkErrorKind>) => void): Unsubscribe;
  close(): void;
}

/**
 * The wireless network interface 4 (FIG. 3): link status and a way to reach
 * the server. `open()` rejects HalError 'link-down' when there is no link and
 * 'timeout' when the server does not answer in time.
 *
 * Promises: `state()` answers at once from what the link last learnt (it
 * never waits for the radio) and returns a copy. `onState` fires only when
 * the state changed (up, signal or metered), with the new state, never twice
 * in a row with equal states, and not after its Unsubscribe.
 */
export interface RadioLink {
  state(): LinkState;
  onState(listener: (state: LinkState) => void): Unsubscribe;
  open(): Promise<ByteStream>;
}
