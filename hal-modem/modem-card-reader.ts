import { type CardReader, HalError, type SimCard, type Unsubscribe } from '../hal/index.js';
import { toHalError, UiccSession, UiccSimCard } from '../uicc/index.js';
import type { AtEngine } from './at-engine.js';
import { AtError } from './at-errors.js';
import { CsimTransport } from './csim-transport.js';
import { type Dialect, simEventOf } from './dialect.js';
import { type ModemLogger, silentModemLogger } from './logger.js';
import { ModemCardOperations } from './modem-card-operations.js';
import { awaitSimState, type SimWaitOptions } from './sim-ready.js';

/**
 * Modems do not report the card's ATR through TS 27.007, so the session
 * carries a minimal one: TS = 3B (direct convention), T0 = 00 (no interface
 * or historical bytes).
 */
export const MODEM_ATR = Uint8Array.of(0x3b, 0x00);

export interface ModemCardReaderOptions {
  /** Default: the AT port's path. */
  name?: string;
  /** Also ask AT+CPIN? this often, for modems without hot-swap URCs. Default 0 (off). */
  pollMs?: number;
  /** How long to wait for a SIM that is still starting (CME 14 / NOT READY), and the back-off. */
  simWait?: SimWaitOptions;
  logger?: ModemLogger;
}

type ReaderEvent = 'inserted' | 'removed';

/**
 * The SIM slot of a cellular modem. A card counts as inserted once the
 * modem says what it needs (+CPIN READY / SIM PIN / SIM PUK …): after a
 * hot-swap "inserted" URC (+QSIMSTAT: 1,1, +SIMCARD: AVAILABLE), a reboot
 * (RDY) or the port coming back, the SIM first starts, and meanwhile the
 * modem answers +CME ERROR: 14 (SIM busy) or +CPIN: NOT READY; the reader
 * asks AT+CPIN? again with a bounded back-off (`simWait`), and takes a
 * +CPIN: <state> URC as the answer too. Removal URCs (+QSIMSTAT: 1,0,
 * +SIMCARD: NOT AVAILABLE, +CPIN: NOT INSERTED), a reboot or the port
 * vanishing count as removal (the card was power-cycled and PIN1 is no
 * longer verified). One session at a time.
 */
export class ModemCardReader implements CardReader {
  readonly name: string;
  readonly #at: AtEngine;
  readonly #dialect: Dialect;
  readonly #log: ModemLogger;
  readonly #simWait: SimWaitOptions;
  readonly #listeners: Record<ReaderEvent, Set<() => void>> = { inserted: new Set(), removed: new Set() };
  readonly #unsubscribe: Unsubscribe[];
  #present = false;
  /** Bumped at every removal, so sessions opened before it know they are stale. */
  #epoch = 0;
  /** Bumped at every removal hint, so a wait for a starting SIM knows when it is moot. */
  #hints = 0;
  #waiting: Promise<boolean> | undefined;
  /** The removal count the running wait started after. */
  #waitingFor = -1;
  #session: SimCard | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  constructor(at: AtEngine, dialect: Dialect, options: ModemCardReaderOptions = {}) {
    this.name = options.name ?? at.path;
    this.#at = at;
    this.#dialect = dialect;
    this.#log = options.logger ?? silentModemLogger;
    this.#simWait = options.simWait ?? {};
    this.#unsubscribe = [
      at.onUrc((line) => this.#urc(line)),
      at.onEvent((event) => {
        this.#removed();
        if (event !== 'disconnected') void this.refresh();
      }),
    ];
    if (options.pollMs) {
      this.#poll = setInterval(() => void this.refresh(), options.pollMs);
      this.#poll.unref?.();
    }
  }

  present(): boolean {
    return this.#present;
  }

  on(event: ReaderEvent, listener: () => void): Unsubscribe {
    this.#listeners[event].add(listener);
    return () => {
      this.#listeners[event].delete(listener);
    };
  }

  /**
   * Asks the modem whether a SIM is in, waiting (bounded by `simWait`) while
   * it is still starting, and updates presence (announcing a change).
   * Resolves with the presence; a wait already running is joined. Errors
   * other than "no SIM" leave presence as it is.
   */
  refresh(): Promise<boolean> {
    if (this.#waiting !== undefined && this.#waitingFor === this.#hints) return this.#waiting;
    // A wait begun before the last removal is moot: it stops at its next try; a new one follows it.
    const before = this.#waiting ?? Promise.resolve(false);
    this.#waitingFor = this.#hints;
    const run = before.then(() => this.#awaitSim());
    this.#waiting = run;
    void run.finally(() => {
      if (this.#waiting === run) this.#waiting = undefined;
    });
    return run;
  }

  async #awaitSim(): Promise<boolean> {
    const hints = this.#hints;
    const alive = () => this.#hints === hints && !this.#stopped;
    try {
      const state = await awaitSimState(this.#at, this.#simWait, alive, this.#dialect.simStarted);
      if (alive()) this.#set(state !== 'NOT INSERTED');
    } catch (e) {
      if (e instanceof AtError && e.kind === 'no-card' && alive()) this.#set(false);
      else this.#log.debug({ error: String(e) }, 'SIM presence unknown');
    }
    return this.#present;
  }

  /**
   * Opens a session: APDUs go through AT+CSIM when the modem has it (else
   * terminal-ID operations reject 'not-supported'). Rejects 'no-card' at once
   * on an empty slot, 'busy' while a session is open.
   */
  async open(): Promise<SimCard> {
    if (!this.#present) throw new HalError('no-card', `no SIM in ${this.name}`);
    if (this.#session !== undefined) throw new HalError('busy', 'a session is already open on this card');
    const epoch = this.#epoch;
    let uicc: UiccSession | undefined;
    try {
      uicc = await UiccSession.open(new CsimTransport(this.#at, this.#simWait), MODEM_ATR);
    } catch (e) {
      const error = toHalError(e);
      if (error.kind === 'no-card' || epoch !== this.#epoch)
        throw new HalError('no-card', 'the SIM left', { cause: e });
      if (error.kind !== 'not-supported') throw error;
      this.#log.warn({ error: error.message }, 'no AT+CSIM: terminal-ID list unavailable');
    }
    const link = {
      at: this.#at,
      dialect: this.#dialect,
      simWait: this.#simWait,
      alive: () => this.#epoch === epoch,
    };
    const session: SimCard = new UiccSimCard({
      ...(uicc === undefined ? {} : { session: uicc }),
      atr: MODEM_ATR,
      present: link.alive,
      release: () => {
        if (this.#session === session) this.#session = undefined;
      },
      device: new ModemCardOperations(link, uicc),
    });
    this.#session = session;
    return session;
  }

  /** Stops listening and polling; the AT engine stays open. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#poll);
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /**
   * A +CPIN: <state> URC is the modem saying the SIM has started; the
   * hot-swap "inserted" URCs only say a card was pushed in, so they start a
   * wait for it (Quectel EC2x manual: +QSIMSTAT reports the detect pin).
   */
  #urc(line: string): void {
    const event = simEventOf(line);
    if (event === 'removed') this.#removed();
    else if (event === 'inserted' && line.startsWith('+CPIN:')) this.#set(true);
    else if (event === 'inserted') void this.refresh();
  }

  #removed(): void {
    this.#hints++;
    this.#set(false);
  }

  #set(present: boolean): void {
    if (present === this.#present) return;
    this.#present = present;
    if (!present) {
      this.#epoch++;
      this.#session = undefined;
    }
    this.#log.info({ reader: this.name, present }, present ? 'SIM inserted' : 'SIM removed');
    for (const listener of [...this.#listeners[present ? 'inserted' : 'removed']]) listener();
  }
}
