import type { ByteStream, LinkState, RadioLink, Unsubscribe } from '../hal/index.js';

/**
 * Link state of a host link, as the outcome of the last attempt: `up`
 * starts true (nothing known yet, so callers try), turns false when an
 * `open()` fails or an open stream breaks with an error, and true again
 * when an `open()` succeeds. A host has no radio to ask, and a default
 * route says nothing about whether this server is reachable (it may be on
 * the LAN or on localhost), so trying is the only honest measure.
 */
export class LinkStateTracker {
  #state: LinkState;
  readonly #listeners = new Set<(state: LinkState) => void>();

  constructor(metered: boolean) {
    this.#state = { up: true, metered };
  }

  state(): LinkState {
    return { ...this.#state };
  }

  onState(listener: (state: LinkState) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Runs one `open()`, recording its outcome and the stream's later breaking in the state. */
  async track(open: () => Promise<ByteStream>): Promise<ByteStream> {
    try {
      const stream = await open();
      stream.onClose((error) => {
        if (error) this.set(false);
      });
      this.set(true);
      return stream;
    } catch (error) {
      this.set(false);
      throw error;
    }
  }

  set(up: boolean): void {
    if (this.#state.up === up) return;
    this.#state = { ...this.#state, up };
    for (const listener of [...this.#listeners]) listener(this.state());
  }
}

/**
 * A RadioLink over the host's network (TcpLink, WsLink): its state is a
 * LinkStateTracker's, and each `open()` is one `connect()`, tracked.
 */
export abstract class HostLink implements RadioLink {
  readonly #state: LinkStateTracker;

  constructor(metered: boolean) {
    this.#state = new LinkStateTracker(metered);
  }

  state(): LinkState {
    return this.#state.state();
  }

  onState(listener: (state: LinkState) => void): Unsubscribe {
    return this.#state.onState(listener);
  }

  open(): Promise<ByteStream> {
    return this.#state.track(() => this.connect());
  }

  /** One connection to the server as a ByteStream; rejects as `open()` does. */
  protected abstract connect(): Promise<ByteStream>;
}
