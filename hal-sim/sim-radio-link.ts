import {
  type ByteStream,
  type Clock,
  HalError,
  type LinkState,
  type RadioLink,
  sleep,
  type Unsubscribe,
} from '../hal/index.js';
import { type LinkCounters, LinkStream } from './link-stream.js';

export interface SimRadioLinkOptions {
  /** Reaches the server: typically returns end `a` of `createDuplexPair()` after handing `b` to a broker. */
  connect: () => ByteStream | Promise<ByteStream>;
  /** Needed for `openDelayMs`. */
  clock?: Clock;
  /** Initially up. Default true. */
  up?: boolean;
  signalDbm?: number;
  /** Default false. */
  metered?: boolean;
  /** Time `open()` takes before connecting, on `clock`. Default 0. */
  openDelayMs?: number;
}

export interface RadioLinkStats extends LinkCounters {
  opens: number;
  failedOpens: number;
  /** Streams opened and not yet closed. */
  openStreams: number;
}

/**
 * The wireless network interface 4 (FIG. 3), simulated. The test sets the
 * link state; `open()` calls the given `connect` function. Taking the link
 * down breaks every open stream with HalError 'link-down' and makes `open()`
 * reject 'link-down'. `onState` listeners run synchronously on each change.
 */
export class SimRadioLink implements RadioLink {
  readonly #options: SimRadioLinkOptions;
  #state: LinkState;
  #listeners = new Set<(state: LinkState) => void>();
  #streams = new Set<LinkStream>();
  #failNextOpen: 'timeout' | 'link-down' | undefined;
  #counters: LinkCounters = { bytesUp: 0, bytesDown: 0 };
  #opens = 0;
  #failedOpens = 0;

  constructor(options: SimRadioLinkOptions) {
    if ((options.openDelayMs ?? 0) > 0 && options.clock === undefined) {
      throw new HalError('not-supported', 'SimRadioLink openDelayMs needs a clock');
    }
    this.#options = options;
    this.#state = initialState(options);
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

  async open(): Promise<ByteStream> {
    const { clock, openDelayMs = 0 } = this.#options;
    if (clock !== undefined && openDelayMs > 0) await sleep(clock, openDelayMs);
    if (!this.#state.up) return this.#fail('link-down', 'radio link is down');
    const injected = this.#failNextOpen;
    this.#failNextOpen = undefined;
    if (injected !== undefined) return this.#fail(injected, `open failed (injected ${injected})`);
    let inner: ByteStream;
    try {
      inner = await this.#options.connect();
    } catch (e) {
      return this.#fail('link-down', 'server unreachable', e);
    }
    const stream = new LinkStream(inner, this.#counters, () => this.#streams.delete(stream));
    this.#streams.add(stream);
    this.#opens++;
    return stream;
  }

  /** Brings the link up or down; down breaks every open stream. */
  setUp(up: boolean): void {
    if (!up) for (const stream of [...this.#streams]) stream.break();
    this.#change({ up });
  }

  setSignal(signalDbm: number | undefined): void {
    this.#change({ signalDbm });
  }

  setMetered(metered: boolean): void {
    this.#change({ metered });
  }

  /** The next `open()` rejects with `kind` (the server did not answer, or the network refused). */
  failNextOpen(kind: 'timeout' | 'link-down' = 'timeout'): void {
    this.#failNextOpen = kind;
  }

  stats(): RadioLinkStats {
    return {
      ...this.#counters,
      opens: this.#opens,
      failedOpens: this.#failedOpens,
      openStreams: this.#streams.size,
    };
  }

  /** Closes open streams, restores the initial state, clears faults and counters; keeps listeners. */
  reset(): void {
    for (const stream of [...this.#streams]) stream.close();
    this.#streams.clear();
    this.#failNextOpen = undefined;
    this.#counters = { bytesUp: 0, bytesDown: 0 };
    this.#opens = 0;
    this.#failedOpens = 0;
    this.#change(initialState(this.#options));
  }

  #fail(kind: 'timeout' | 'link-down', message: string, cause?: unknown): never {
    this.#failedOpens++;
    throw new HalError(kind, message, { cause });
  }

  #change(patch: Partial<LinkState>): void {
    const next: LinkState = { ...this.#state, ...patch };
    if ('signalDbm' in patch && patch.signalDbm === undefined) delete next.signalDbm;
    if (sameState(next, this.#state)) return;
    this.#state = next;
    for (const listener of [...this.#listeners]) listener({ ...next });
  }
}

function initialState(options: SimRadioLinkOptions): LinkState {
  const state: LinkState = { up: options.up ?? true, metered: options.metered ?? false };
  if (options.signalDbm !== undefined) state.signalDbm = options.signalDbm;
  return state;
}

function sameState(x: LinkState, y: LinkState): boolean {
  return x.up === y.up && x.metered === y.metered && x.signalDbm === y.signalDbm;
}
