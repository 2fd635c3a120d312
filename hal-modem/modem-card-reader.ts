import { type CardReader, HalError, type SimCard, type Unsubscribe } from '../hal/index.js';
import { UiccSession } from '../uicc/index.js';
import type { AtEngine } from './at-engine.js';
import { AtError } from './at-errors.js';
import { CsimTransport } from './csim-transport.js';
import { type Dialect, simEventOf } from './dialect.js';
import { type ModemLogger, silentModemLogger } from './logger.js';
import { ModemSimCard, readCpin } from './modem-sim-card.js';
import { toHalError } from './uicc-errors.js';

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
  logger?: ModemLogger;
}

type ReaderEvent = 'inserted' | 'removed';

/**
 * The SIM slot of a cellular modem. Presence follows hot-swap URCs
 * (+QSIMSTAT, +SIMCARD, +CPIN: NOT INSERTED / READY …) and AT+CPIN? after
 * every start. A modem reboot or the port vanishing counts as removal (the
 * card was power-cycled and PIN1 is no longer verified); the card is
 * announced again once the modem answers. One session at a time.
 */
export class ModemCardReader implements CardReader {
  readonly name: string;
  readonly #at: AtEngine;
  readonly #dialect: Dialect;
  readonly #log: ModemLogger;
  readonly #listeners: Record<ReaderEvent, Set<() => void>> = { inserted: new Set(), removed: new Set() };
  readonly #unsubscribe: Unsubscribe[];
  #present = false;
  /** Bumped at every removal, so sessions opened before it know they are stale. */
  #epoch = 0;
  #session: SimCard | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;

  constructor(at: AtEngine, dialect: Dialect, options: ModemCardReaderOptions = {}) {
    this.name = options.name ?? at.path;
    this.#at = at;
    this.#dialect = dialect;
    this.#log = options.logger ?? silentModemLogger;
    this.#unsubscribe = [
      at.onUrc((line) => {
        const event = simEventOf(line);
        if (event !== undefined) this.#set(event === 'inserted');
      }),
      at.onEvent((event) => {
        this.#set(false);
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

  /** Asks AT+CPIN? and updates presence (announcing a change). Errors other than "no SIM" leave it as it is. */
  async refresh(): Promise<boolean> {
    try {
      const state = await readCpin(this.#at);
      this.#set(state !== 'NOT INSERTED');
    } catch (e) {
      if (e instanceof AtError && e.kind === 'no-card') this.#set(false);
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
      uicc = await UiccSession.open(new CsimTransport(this.#at), MODEM_ATR);
    } catch (e) {
      const error = toHalError(e);
      if (error.kind === 'no-card' || epoch !== this.#epoch)
        throw new HalError('no-card', 'the SIM left', { cause: e });
      if (error.kind !== 'not-supported') throw error;
      this.#log.warn({ error: error.message }, 'no AT+CSIM: terminal-ID list unavailable');
    }
    const session: SimCard = new ModemSimCard(
      {
        at: this.#at,
        dialect: this.#dialect,
        alive: () => this.#epoch === epoch,
        closed: () => {
          if (this.#session === session) this.#session = undefined;
        },
      },
      MODEM_ATR,
      uicc,
    );
    this.#session = session;
    return session;
  }

  /** Stops listening and polling; the AT engine stays open. */
  stop(): void {
    clearInterval(this.#poll);
    for (const off of this.#unsubscribe.splice(0)) off();
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
