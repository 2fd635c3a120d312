import { type ByteStream, HalError, type LinkErrorKind, type Unsubscribe } from '../hal/index.js';
import { CloseSignal } from './close-signal.js';

/** Byte counters a link keeps across all its streams. */
export interface LinkCounters {
  bytesUp: number;
  bytesDown: number;
}

/**
 * Wraps a stream opened through a SimRadioLink so the link can count its
 * bytes and break it when the radio goes down. Closes once: with the inner
 * stream's error, with HalError 'link-down' from `break()`, or cleanly.
 */
export class LinkStream implements ByteStream {
  readonly #inner: ByteStream;
  readonly #counters: LinkCounters;
  readonly #onDone: () => void;
  #dataListeners = new Set<(bytes: Uint8Array) => void>();
  readonly #close = new CloseSignal();
  #innerData: Unsubscribe | undefined;

  constructor(inner: ByteStream, counters: LinkCounters, onDone: () => void) {
    this.#inner = inner;
    this.#counters = counters;
    this.#onDone = onDone;
    inner.onClose((error) => this.#finish(error));
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#close.closed) throw new HalError('link-down', 'stream is closed');
    await this.#inner.write(bytes);
    this.#counters.bytesUp += bytes.length;
  }

  onData(listener: (bytes: Uint8Array) => void): Unsubscribe {
    this.#dataListeners.add(listener);
    // Subscribe to the inner stream only once someone listens, so data it buffered is not lost.
    this.#innerData ??= this.#inner.onData((bytes) => {
      if (this.#close.closed) return;
      this.#counters.bytesDown += bytes.length;
      for (const l of [...this.#dataListeners]) l(bytes);
    });
    return () => {
      this.#dataListeners.delete(listener);
    };
  }

  onClose(listener: (error?: HalError<LinkErrorKind>) => void): Unsubscribe {
    return this.#close.listen(listener);
  }

  close(): void {
    this.#inner.close();
    this.#finish(undefined);
  }

  /** The radio went away: close with 'link-down' and drop the inner stream. */
  break(): void {
    this.#finish(new HalError('link-down', 'radio link went down'));
    this.#inner.close();
  }

  #finish(error: HalError<LinkErrorKind> | undefined): void {
    if (!this.#close.close(error)) return;
    this.#innerData?.();
    this.#onDone();
  }
}
