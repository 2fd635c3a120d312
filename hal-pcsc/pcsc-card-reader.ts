import { type CardReader, HalError, type Unsubscribe } from '../hal/index.js';
import { type ApduTransport, openFailure, UiccSession } from '../uicc/index.js';
import { settlesWithin } from './deadline.js';
import { type Disposition, PcscConnection, type ProtocolChoice, type ShareMode } from './pcsc-connection.js';
import type { PcscLogger } from './pcsc-logger.js';
import {
  borrowConnectionNative,
  type NativeCardReader,
  nativeReader,
  returnConnectionNative,
} from './pcsc-native.js';
import { PcscSimCard } from './pcsc-sim-card.js';
import { slotChange } from './reader-state.js';

export interface PcscReaderOptions {
  /** 'exclusive' (default: no other process can interleave APDUs) or 'shared'. */
  share?: ShareMode;
  /** Default 'any': whatever the card's ATR offers, T=0 first. */
  protocol?: ProtocolChoice;
  /** What `SimCard.close()` does to the card; default 'reset' (PIN1 no longer verified for the next user). */
  disposition?: Disposition;
  /** Bound on each PC/SC call (connect, one APDU, disconnect); default 5000 ms. */
  commandTimeoutMs?: number;
  /** How long a failed APDU waits for pcscd to report the card gone before calling it a card error; default 1500 ms. */
  removalGraceMs?: number;
  /**
   * Bound on `SimCard.close()` and `close()`: past it they resolve anyway and
   * the PC/SC handle is released in the background once the driver returns;
   * default 2000 ms.
   */
  closeTimeoutMs?: number;
  logger?: PcscLogger;
  /** Something closed together with the reader (the context `openPcscReader` made for it). */
  owns?: { close(): Promise<void> };
}

/** The reader list a PcscCardReader follows (PcscContext). */
export interface ReaderWatch {
  has(name: string): boolean;
  on(event: 'attached' | 'detached', listener: (name: string) => void): Unsubscribe;
}

type CardEvent = 'inserted' | 'removed';

const silent: PcscLogger = { debug() {}, warn() {} };

/**
 * One PC/SC reader slot as a hal CardReader. Card insertion and removal
 * come from pcscd's reader state (SCardGetStatusChange on a thread of its
 * own); a removal and re-insertion between two polls is caught by pcscd's
 * event counter and still reported as 'removed' then 'inserted'. The reader
 * may be unplugged and plugged again: it follows its name in the list.
 *
 * One session at a time: `open()` while a session is open rejects 'busy',
 * as does a card held exclusively by another process.
 */
export class PcscCardReader implements CardReader {
  readonly name: string;
  readonly #options: Required<Omit<PcscReaderOptions, 'logger' | 'owns'>>;
  readonly #owns: { close(): Promise<void> } | undefined;
  readonly #log: PcscLogger;
  readonly #listeners: Record<CardEvent, Set<() => void>> = { inserted: new Set(), removed: new Set() };
  readonly #unwatch: Unsubscribe[];
  #watcher: NativeCardReader | undefined;
  #connectionNative: NativeCardReader | undefined;
  #present = false;
  #atr: Uint8Array | undefined;
  #events = -1;
  /** Bumped on every removal, so a session knows its card left even if another is in now. */
  #generation = 0;
  #session: PcscSimCard | undefined;
  #opening = false;
  #connection: PcscConnection | undefined;
  /**
   * The last disconnect. node-pcsclite keeps one handle per native object and
   * runs calls on a thread pool in no fixed order, so a connect must wait for
   * the previous disconnect or that disconnect would close the new handle.
   */
  #released: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(watch: ReaderWatch, name: string, options: PcscReaderOptions = {}) {
    this.name = name;
    this.#options = {
      share: options.share ?? 'exclusive',
      protocol: options.protocol ?? 'any',
      disposition: options.disposition ?? 'reset',
      commandTimeoutMs: options.commandTimeoutMs ?? 5000,
      removalGraceMs: options.removalGraceMs ?? 1500,
      closeTimeoutMs: options.closeTimeoutMs ?? 2000,
    };
    this.#log = options.logger ?? silent;
    this.#owns = options.owns;
    this.#unwatch = [
      watch.on('attached', (n) => n === name && this.#watch()),
      watch.on('detached', (n) => n === name && this.#detached()),
    ];
    if (watch.has(name)) this.#watch();
  }

  /** Whether pcscd lists this reader now. */
  get attached(): boolean {
    return this.#watcher !== undefined;
  }

  present(): boolean {
    return this.#present;
  }

  /** The ATR of the card in the slot, as pcscd reports it. */
  atr(): Uint8Array | undefined {
    return this.#atr?.slice();
  }

  on(event: CardEvent, listener: () => void): Unsubscribe {
    this.#listeners[event].add(listener);
    return () => {
      this.#listeners[event].delete(listener);
    };
  }

  /**
   * Connects to the card (share mode and protocol from the options) and
   * opens a SIM/USIM session. Rejects 'device-unavailable' (reader not
   * attached, pcscd gone), 'no-card', 'busy', 'not-supported' (protocol),
   * 'card-blocked' (mute card, or not a SIM), 'timeout'.
   */
  async open(): Promise<PcscSimCard> {
    if (this.#closed) throw new HalError('device-unavailable', `reader "${this.name}" was closed`);
    if (!this.attached)
      throw new HalError('device-unavailable', `PC/SC reader "${this.name}" is not attached`);
    if (!this.#present) throw new HalError('no-card', `no card in "${this.name}"`);
    if (this.#session !== undefined || this.#opening) {
      throw new HalError('busy', 'a session is already open on this card');
    }
    this.#opening = true;
    try {
      return await this.#openSession();
    } finally {
      this.#opening = false;
    }
  }

  async #openSession(): Promise<PcscSimCard> {
    const generation = this.#generation;
    const connection = await this.#connect();
    const gone = () => this.#generation !== generation || this.#closed;
    const transport: ApduTransport = { transmit: (apdu) => this.#transmit(connection, apdu, gone) };
    let uicc: UiccSession;
    try {
      uicc = await UiccSession.open(transport, this.#atr ?? new Uint8Array(0));
    } catch (e) {
      await settlesWithin(this.#release(connection, 'leave'), this.#options.closeTimeoutMs);
      throw openFailure(e);
    }
    const release = async () => {
      if (this.#session === session) this.#session = undefined;
      if (this.#connection === connection) this.#connection = undefined;
      const released = this.#release(connection, gone() ? 'leave' : this.#options.disposition);
      if (!(await settlesWithin(released, this.#options.closeTimeoutMs))) {
        this.#log.warn({ reader: this.name }, 'card session closed; the card still has not answered');
      }
    };
    const session = new PcscSimCard({ session: uicc, present: () => !gone(), release }, connection.protocol);
    this.#session = session;
    this.#connection = connection;
    this.#log.debug({ reader: this.name, protocol: connection.protocol, app: uicc.application }, 'card open');
    return session;
  }

  /**
   * Stops following the reader; an open session's calls reject 'card-removed'.
   * Idempotent. Resolves within `closeTimeoutMs` even when the card hangs:
   * a PC/SC call stuck in the driver is abandoned (its handle is released
   * when it returns), and its native object is not reused.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unwatch) off();
    this.#stopWatcher();
    this.#dropSession();
    const released = await settlesWithin(this.#released, this.#options.closeTimeoutMs);
    if (released && this.#connectionNative !== undefined) {
      returnConnectionNative(this.name, this.#connectionNative);
    }
    if (!released) this.#log.warn({ reader: this.name }, 'reader closed with a PC/SC call still stuck');
    this.#connectionNative = undefined;
    await this.#owns?.close();
  }

  /** The card is gone (or the reader closed): free the PC/SC handle now, whether or not the session is closed. */
  #dropSession(): void {
    const connection = this.#connection;
    this.#session = undefined;
    this.#connection = undefined;
    if (connection !== undefined) void this.#release(connection, 'leave');
  }

  async #connect(): Promise<PcscConnection> {
    await this.#released;
    this.#connectionNative ??= borrowConnectionNative(this.name);
    try {
      const connection = await PcscConnection.connect(this.#connectionNative, this.name, {
        share: this.#options.share,
        protocol: this.#options.protocol,
        timeoutMs: this.#options.commandTimeoutMs,
      });
      return connection;
    } catch (e) {
      // A connect past its deadline leaves its native object busy: use a fresh one next time.
      if (e instanceof HalError && e.kind === 'timeout') this.#connectionNative = undefined;
      throw e;
    }
  }

  #release(connection: PcscConnection, disposition: Disposition): Promise<void> {
    this.#released = this.#released.then(async () => {
      const released = await connection.disconnect(disposition);
      // Its native object is stuck in a call that outlived its deadline: the next connect needs another.
      if (!released && this.#connectionNative === connection.native) this.#connectionNative = undefined;
    });
    return this.#released;
  }

  /**
   * One APDU. vpcd answers a pulled card with an empty response and real
   * drivers with a transmit error; either way, when pcscd then reports the
   * card gone (within `removalGraceMs`) the error is 'card-removed'.
   */
  async #transmit(connection: PcscConnection, apdu: Uint8Array, gone: () => boolean): Promise<Uint8Array> {
    if (gone()) throw new HalError('card-removed', 'the card left the reader');
    let failure: unknown;
    try {
      const response = await connection.transmit(apdu);
      if (response.length >= 2) return response;
      failure = new HalError(
        'card-error',
        `the card answered ${response.length} bytes, not even a status word`,
      );
    } catch (e) {
      failure = e;
    }
    if (failure instanceof HalError && failure.kind === 'timeout') throw failure;
    if (gone() || (await this.#removedWithin(this.#options.removalGraceMs))) {
      throw new HalError('card-removed', 'the card left the reader during a command', { cause: failure });
    }
    throw failure;
  }

  #removedWithin(ms: number): Promise<boolean> {
    if (!this.#present) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, ms);
      const off = this.on('removed', () => {
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  #watch(): void {
    if (this.#closed || this.#watcher !== undefined) return;
    const watcher = nativeReader(this.name);
    this.#watcher = watcher;
    this.#events = -1;
    // node-pcsclite calls this holding the watcher's mutex, which `close()` takes too:
    // handling the event on the next turn keeps a listener that closes the reader from deadlocking.
    watcher.get_status((error, state, atr) =>
      setImmediate(() => {
        if (this.#watcher !== watcher) return;
        if (error || state === undefined) {
          this.#log.warn({ reader: this.name, error: String(error) }, 'reader status failed');
          this.#detached();
          return;
        }
        this.#status(state, atr);
      }),
    );
  }

  #status(state: number, atr: Buffer | undefined): void {
    const change = slotChange(state, this.#events, this.#present);
    this.#events = change.events;
    if (change.swapped) this.#setPresent(false, undefined);
    this.#setPresent(change.present, atr && atr.length > 0 ? new Uint8Array(atr) : undefined);
  }

  #setPresent(present: boolean, atr: Uint8Array | undefined): void {
    if (present) this.#atr = atr ?? this.#atr;
    if (present === this.#present) return;
    this.#present = present;
    if (!present) {
      this.#atr = undefined;
      this.#generation++;
      this.#dropSession();
    }
    this.#emit(present ? 'inserted' : 'removed');
  }

  #detached(): void {
    this.#stopWatcher();
    this.#setPresent(false, undefined);
  }

  #stopWatcher(): void {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    try {
      watcher?.close();
    } catch {
      // The status thread may have ended already (reader gone); nothing is left to stop.
    }
  }

  #emit(event: CardEvent): void {
    this.#log.debug({ reader: this.name }, `card ${event}`);
    for (const listener of [...this.#listeners[event]]) listener();
  }
}
