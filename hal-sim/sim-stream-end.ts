import type { ByteStream, HalError, LinkErrorKind, Unsubscribe } from '../hal/index.js';
import { CloseSignal } from './close-signal.js';

/** How an end hands writes to the wire that joins it to its peer (a SimPipe). */
export interface Wire {
  send(from: SimStreamEnd, bytes: Uint8Array): Promise<void>;
  hangUp(from: SimStreamEnd): void;
}

/**
 * One end of an in-memory duplex pipe. Data that arrives before the first
 * `onData` listener is kept and handed to that listener, so nothing is lost
 * between `open()` and subscribing. Listeners are called from a microtask,
 * never from inside `write` or `onData`.
 */
export class SimStreamEnd implements ByteStream {
  readonly #wire: Wire;
  #dataListeners = new Set<(bytes: Uint8Array) => void>();
  readonly #close = new CloseSignal();
  #buffer: Uint8Array[] = [];
  #flushQueued = false;

  constructor(wire: Wire) {
    this.#wire = wire;
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.#wire.send(this, bytes);
  }

  onData(listener: (bytes: Uint8Array) => void): Unsubscribe {
    this.#dataListeners.add(listener);
    if (this.#buffer.length > 0 && !this.#close.closed) this.#queueFlush();
    return () => {
      this.#dataListeners.delete(listener);
    };
  }

  onClose(listener: (error?: HalError<LinkErrorKind>) => void): Unsubscribe {
    return this.#close.listen(listener);
  }

  close(): void {
    if (this.#close.closed) return;
    this.#wire.hangUp(this);
  }

  /** Whether this end has closed (by either side, or a fault). */
  isClosed(): boolean {
    return this.#close.closed;
  }

  /** Called by the wire: bytes from the peer. Dropped once this end is closed. */
  deliver(bytes: Uint8Array): void {
    if (this.#close.closed) return;
    this.#buffer.push(bytes);
    if (this.#dataListeners.size > 0) this.#queueFlush();
  }

  /** Called by the wire: this end is done; listeners hear `error` once (none for an orderly close). */
  finish(error?: HalError<LinkErrorKind>): void {
    // Heard after any flush already queued, so data that arrived first is heard first.
    if (!this.#close.close(error)) return;
    // Nobody can hear buffered data before the close any more: drop it.
    if (this.#dataListeners.size === 0) this.#buffer = [];
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (this.#dataListeners.size === 0) return;
      const chunks = this.#buffer;
      this.#buffer = [];
      for (const chunk of chunks) {
        for (const listener of [...this.#dataListeners]) listener(chunk);
      }
    });
  }
}
