import { type Clock, HalError, type LinkErrorKind } from '../hal/index.js';
import { SimStreamEnd, type Wire } from './sim-stream-end.js';

export interface SimPipeOptions {
  /**
   * Virtual (or real) clock for latency. Without one, delivery happens on a
   * microtask, which is what a pipe bridged to a real TCP socket wants.
   */
  clock?: Clock;
  /** One-way delay of every write, in ms on `clock`. Default 0 (next microtask). */
  latencyMs?: number;
  /** Keep a copy of every chunk that crossed, for `traffic()`. Default false. */
  record?: boolean;
}

/** 'up' is a → b (terminal to server), 'down' is b → a. */
export type PipeDirection = 'up' | 'down';

export interface PipeStats {
  bytesUp: number;
  bytesDown: number;
  messagesUp: number;
  messagesDown: number;
}

export interface PipeChunk {
  direction: PipeDirection;
  bytes: Uint8Array;
  /** `clock.now()` when written, if the pipe has a clock. */
  at: number | undefined;
}

type PipeState = 'open' | 'closing' | 'broken';

/**
 * An in-memory duplex pipe with two `ByteStream` ends, `a` and `b`, and the
 * link faults of DESIGN.md: latency, a break after N more bytes, a break at
 * the N-th write, and an immediate cut. Bytes arrive in order, unduplicated,
 * or the pipe breaks: both ends then close with HalError 'link-down' and
 * bytes still in flight are lost. `close()` on one end is orderly: the peer
 * receives what was already written, then closes without an error.
 */
export class SimPipe {
  readonly a: SimStreamEnd;
  readonly b: SimStreamEnd;
  readonly #clock: Clock | undefined;
  readonly #record: boolean;
  #latency = 0;
  #state: PipeState = 'open';
  #lastDue: Record<PipeDirection, number> = { up: 0, down: 0 };
  /** Clock timers not yet fired per direction; while any is pending, later chunks queue behind it. */
  #inFlight: Record<PipeDirection, number> = { up: 0, down: 0 };
  #bytesLeft: number | undefined;
  #messagesLeft: number | undefined;
  #stats: PipeStats = { bytesUp: 0, bytesDown: 0, messagesUp: 0, messagesDown: 0 };
  #traffic: PipeChunk[] = [];

  constructor(options: SimPipeOptions = {}) {
    this.#clock = options.clock;
    this.#record = options.record ?? false;
    this.setLatency(options.latencyMs ?? 0);
    const wire: Wire = {
      send: (from, bytes) => this.#send(from, bytes),
      hangUp: (from) => this.#hangUp(from),
    };
    this.a = new SimStreamEnd(wire);
    this.b = new SimStreamEnd(wire);
  }

  /** Sets the one-way delay for later writes; order is preserved across changes. Needs a clock when > 0. */
  setLatency(ms: number): void {
    if (ms > 0 && this.#clock === undefined) {
      throw new HalError('not-supported', 'SimPipe latency needs a clock');
    }
    this.#latency = Math.max(0, ms);
  }

  /** The pipe breaks once `n` more bytes (both directions together) have crossed; the write that reaches `n` delivers only what fits and rejects. */
  dropAfterBytes(n: number): void {
    this.#bytesLeft = Math.max(0, n);
  }

  /** The `n`-th write from now (1-based, either end) breaks the pipe; nothing of it is delivered. */
  dropAtMessage(n: number): void {
    this.#messagesLeft = Math.max(1, n);
  }

  /** Breaks the pipe now: both ends close with `error` (default HalError 'link-down'). */
  cut(error: HalError<LinkErrorKind> = new HalError('link-down', 'link cut')): void {
    if (this.#state === 'broken') return;
    this.#state = 'broken';
    this.a.finish(error);
    this.b.finish(error);
  }

  /** True once the pipe broke or either end closed. */
  isClosed(): boolean {
    return this.#state !== 'open';
  }

  stats(): PipeStats {
    return { ...this.#stats };
  }

  /** Every chunk that crossed, in write order (only with `record: true`). */
  traffic(): PipeChunk[] {
    return this.#traffic.map((c) => ({ ...c, bytes: c.bytes.slice() }));
  }

  /** Clears pending faults, counters and the recording. A closed pipe stays closed. */
  reset(): void {
    this.#bytesLeft = undefined;
    this.#messagesLeft = undefined;
    this.#stats = { bytesUp: 0, bytesDown: 0, messagesUp: 0, messagesDown: 0 };
    this.#traffic = [];
  }

  async #send(from: SimStreamEnd, bytes: Uint8Array): Promise<void> {
    if (this.#state !== 'open') throw new HalError('link-down', 'stream is closed');
    if (bytes.length === 0) return;
    if (this.#messagesLeft !== undefined && --this.#messagesLeft === 0) {
      this.#messagesLeft = undefined;
      this.cut(new HalError('link-down', 'link dropped at message (injected)'));
      throw new HalError('link-down', 'link dropped at message (injected)');
    }
    const direction: PipeDirection = from === this.a ? 'up' : 'down';
    const to = from === this.a ? this.b : this.a;
    let chunk = bytes.slice();
    let exhausted = false;
    if (this.#bytesLeft !== undefined && chunk.length >= this.#bytesLeft) {
      chunk = chunk.subarray(0, this.#bytesLeft);
      exhausted = true;
    } else if (this.#bytesLeft !== undefined) {
      this.#bytesLeft -= chunk.length;
    }
    this.#count(direction, chunk);
    if (chunk.length > 0) this.#schedule(direction, () => to.deliver(chunk));
    if (!exhausted) return;
    this.#bytesLeft = undefined;
    this.#state = 'closing';
    const error = new HalError('link-down', 'link dropped after bytes (injected)');
    // The bytes that fit arrive first, then the break.
    this.#schedule(direction, () => this.cut(error));
    throw error;
  }

  #hangUp(from: SimStreamEnd): void {
    if (this.#state === 'broken') return;
    const to = from === this.a ? this.b : this.a;
    const direction: PipeDirection = from === this.a ? 'up' : 'down';
    this.#state = 'closing';
    from.finish();
    this.#schedule(direction, () => to.finish());
  }

  #count(direction: PipeDirection, chunk: Uint8Array): void {
    if (direction === 'up') {
      this.#stats.bytesUp += chunk.length;
      this.#stats.messagesUp++;
    } else {
      this.#stats.bytesDown += chunk.length;
      this.#stats.messagesDown++;
    }
    if (this.#record) this.#traffic.push({ direction, bytes: chunk.slice(), at: this.#clock?.now() });
  }

  /** Runs `fn` after the latency, never before anything scheduled earlier in the same direction. */
  #schedule(direction: PipeDirection, fn: () => void): void {
    const run = () => {
      if (this.#state !== 'broken') fn();
    };
    const clock = this.#clock;
    if (clock === undefined || (this.#latency === 0 && this.#inFlight[direction] === 0)) {
      queueMicrotask(run);
      return;
    }
    const now = clock.now();
    const due = Math.max(now + this.#latency, this.#lastDue[direction]);
    this.#lastDue[direction] = due;
    this.#inFlight[direction]++;
    clock.setTimeout(() => {
      this.#inFlight[direction]--;
      run();
    }, due - now);
  }
}

/**
 * Two connected `ByteStream` ends `[a, b]` (a = terminal side, b = server
 * side). Both ends carry the controlling pipe as `pipe` for fault injection.
 */
export function createDuplexPair(
  options: SimPipeOptions = {},
): [SimStreamEnd, SimStreamEnd] & { pipe: SimPipe } {
  const pipe = new SimPipe(options);
  return Object.assign([pipe.a, pipe.b] as [SimStreamEnd, SimStreamEnd], { pipe });
}
