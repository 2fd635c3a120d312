import { HalError, type Unsubscribe } from '../hal/index.js';
import { withDeadline } from './deadline.js';
import { fromPcscError, NO_PCSCD_MESSAGE } from './pcsc-errors.js';
import type { PcscLogger } from './pcsc-logger.js';
import { type NativePcscLite, parseReaderList, pcscNative } from './pcsc-native.js';

export interface PcscContextOptions {
  /** Bound on establishing the context and listing readers; default 3000 ms. */
  timeoutMs?: number;
  /** After losing pcscd, how often to try to reach it again; default 1000 ms. */
  retryMs?: number;
  logger?: PcscLogger;
}

/** A reader by its PC/SC name (exact, else a unique case-insensitive substring) or its index in the list. */
export type ReaderSelector = string | number;

type ReaderEvent = 'attached' | 'detached';

const silent: PcscLogger = { debug() {}, warn() {} };

/** Closed native contexts, kept from the garbage collector for a while (see #stopNative). */
const CLOSED = new Set<NativePcscLite>();

/**
 * A PC/SC context with a live reader list: 'attached' / 'detached' fire per
 * reader name as pcscd reports readers plugged and unplugged. If pcscd goes
 * away every reader is detached and the context keeps trying to reach it
 * again, re-attaching what it then lists.
 */
export class PcscContext {
  readonly #timeoutMs: number;
  readonly #retryMs: number;
  readonly #log: PcscLogger;
  readonly #listeners: Record<ReaderEvent, Set<(name: string) => void>> = {
    attached: new Set(),
    detached: new Set(),
  };
  #native: NativePcscLite | undefined;
  #names: string[] = [];
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: PcscContextOptions) {
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#retryMs = options.retryMs ?? 1000;
    this.#log = options.logger ?? silent;
  }

  /**
   * Connects to pcscd and reads the reader list. Rejects HalError
   * 'device-unavailable' when pcscd is not running (the message says how to
   * install and start it) or the addon is not built, 'timeout' when pcscd
   * does not answer.
   */
  static async open(options: PcscContextOptions = {}): Promise<PcscContext> {
    const context = new PcscContext(options);
    await context.#start();
    return context;
  }

  /** Reader names in pcscd's order (the index a selector may use). */
  readerNames(): string[] {
    return [...this.#names];
  }

  /** Whether pcscd is reachable now. */
  get available(): boolean {
    return this.#native !== undefined;
  }

  has(name: string): boolean {
    return this.#names.includes(name);
  }

  on(event: ReaderEvent, listener: (name: string) => void): Unsubscribe {
    this.#listeners[event].add(listener);
    return () => {
      this.#listeners[event].delete(listener);
    };
  }

  /** The name `selector` picks now, or undefined. Throws 'device-unavailable' when a name is ambiguous. */
  resolve(selector: ReaderSelector): string | undefined {
    const names = this.#names;
    if (typeof selector === 'number') return names[selector];
    if (names.includes(selector)) return selector;
    const matches = names.filter((n) => n.toLowerCase().includes(selector.toLowerCase()));
    if (matches.length > 1) {
      throw new HalError('device-unavailable', `reader "${selector}" is ambiguous: ${matches.join(', ')}`);
    }
    return matches[0];
  }

  /**
   * Waits up to `timeoutMs` for a reader matching `selector` and returns its
   * name. Rejects 'device-unavailable' naming the readers that do exist.
   */
  async waitForReader(selector: ReaderSelector, timeoutMs = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const name = this.resolve(selector);
      if (name !== undefined) return name;
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, deadline - Date.now())));
    }
    const list = this.#names.length === 0 ? 'no readers at all' : `readers: ${this.#names.join(', ')}`;
    const hint = this.available ? '' : ` (${NO_PCSCD_MESSAGE})`;
    throw new HalError(
      'device-unavailable',
      `no PC/SC reader matches ${JSON.stringify(selector)}; ${list}${hint}`,
    );
  }

  /** Stops watching; idempotent. Readers made from this context stop getting events. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#stopNative();
    this.#update([]);
  }

  async #start(): Promise<void> {
    const addon = pcscNative();
    let lite: NativePcscLite;
    try {
      lite = new addon.PCSCLite();
    } catch (e) {
      throw fromPcscError(e, 'context', 'connecting to pcscd');
    }
    this.#native = lite;
    let first = true;
    await withDeadline<void>(this.#timeoutMs, 'listing PC/SC readers', (settle) =>
      // Handled on the next turn, outside the addon's callback, so listeners may close readers freely.
      lite.start((error, raw) =>
        setImmediate(() => {
          if (this.#native !== lite) return; // closed or replaced: late callbacks mean nothing
          if (error && first) settle(fromPcscError(error, 'context', 'listing PC/SC readers'));
          else if (error) this.#lost(error);
          else {
            this.#update(parseReaderList(raw));
            if (first) settle(undefined);
          }
          first = false;
        }),
      ),
    ).catch((e: unknown) => {
      if (this.#native === lite) this.#stopNative();
      throw e;
    });
  }

  #lost(error: Error): void {
    this.#log.warn({ error: error.message }, 'lost pcscd; readers detached, retrying');
    this.#stopNative();
    this.#update([]);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#start().then(
        () => this.#log.warn({ readers: this.#names }, 'pcscd is back'),
        () => this.#scheduleRetry(),
      );
    }, this.#retryMs);
    // Retrying must not keep a process alive that has nothing else to do.
    this.#retry.unref();
  }

  #stopNative(): void {
    const lite = this.#native;
    this.#native = undefined;
    if (lite === undefined) return;
    // The addon still delivers a last callback after close(); the object must outlive it.
    CLOSED.add(lite);
    setTimeout(() => CLOSED.delete(lite), 5000).unref();
    try {
      lite.close();
    } catch {
      // Closing a context whose daemon is gone can fail; there is nothing left to release.
    }
  }

  #update(names: string[]): void {
    const before = this.#names;
    this.#names = names;
    for (const name of before) if (!names.includes(name)) this.#emit('detached', name);
    for (const name of names) if (!before.includes(name)) this.#emit('attached', name);
  }

  #emit(event: ReaderEvent, name: string): void {
    this.#log.debug({ reader: name }, `reader ${event}`);
    for (const listener of [...this.#listeners[event]]) listener(name);
  }
}
