import { type CardReader, HalError, type SimCard, type Unsubscribe } from '../hal/index.js';
import { openFailure, UiccSession, UiccSimCard, type VirtualUicc } from '../uicc/index.js';
import { type ApduRecord, SimSlot, type SimSlotOptions, type YankOptions } from './sim-slot.js';

export interface SimCardReaderOptions extends SimSlotOptions {
  /** Default 'sim-0'. */
  name?: string;
}

type ReaderEvent = 'inserted' | 'removed';

/**
 * A card reader whose cards are virtual UICCs from uicc/, so the same APDU
 * code runs as on a real card. The test inserts and pulls cards at any
 * moment, including mid-command (see SimSlot). Events fire synchronously in
 * `insert` / `remove`, once per change. One session at a time: `open()`
 * while a session is open rejects 'busy'.
 */
export class SimCardReader implements CardReader {
  readonly name: string;
  readonly slot: SimSlot;
  #listeners: Record<ReaderEvent, Set<() => void>> = { inserted: new Set(), removed: new Set() };
  #session: UiccSimCard | undefined;
  #opens = 0;

  constructor(options: SimCardReaderOptions = {}) {
    this.name = options.name ?? 'sim-0';
    this.slot = new SimSlot(options);
    this.slot.onYank = () => this.#removed();
  }

  present(): boolean {
    return this.slot.card() !== undefined;
  }

  on(event: ReaderEvent, listener: () => void): Unsubscribe {
    this.#listeners[event].add(listener);
    return () => {
      this.#listeners[event].delete(listener);
    };
  }

  /**
   * Powers the card and opens a session. Rejects 'no-card', 'busy',
   * 'card-blocked' for a card that answers as neither SIM nor USIM,
   * 'card-error' for one whose USIM answers something that does not decode,
   * 'timeout' for a card that stopped answering (with `commandTimeoutMs`).
   */
  async open(): Promise<SimCard> {
    if (this.#session !== undefined) throw new HalError('busy', 'a session is already open on this card');
    const powered = this.slot.powerOn();
    let uicc: UiccSession;
    try {
      uicc = await UiccSession.open(powered.transport, powered.atr);
    } catch (e) {
      powered.powerOff();
      throw openFailure(e);
    }
    const session = new UiccSimCard({
      session: uicc,
      release: () => {
        if (this.#session === session) this.#session = undefined;
        powered.powerOff();
      },
    });
    this.#session = session;
    this.#opens++;
    return session;
  }

  /** Puts a card in the reader and announces it. Rejects 'busy' when one is already in. */
  insert(card: VirtualUicc): void {
    this.slot.insert(card);
    this.#emit('inserted');
  }

  /** Pulls the card at once, even mid-command; announces it if there was one. */
  remove(): void {
    if (this.slot.remove()) this.#removed();
  }

  /** See SimSlot.yankAfterApdus; the reader announces the removal. */
  yankAfterApdus(n: number, options?: YankOptions): void {
    this.slot.yankAfterApdus(n, options);
  }

  /** The card stops answering (see SimSlot.hang); pulling it or closing its session ends the wait. */
  hang(): void {
    this.slot.hang();
  }

  /** Time each APDU takes on the clock, so a test can pull the card mid-command. */
  setApduDelay(ms: number): void {
    this.slot.setApduDelay(ms);
  }

  /** Every APDU exchanged through this reader, as hex. */
  traffic(): ApduRecord[] {
    return this.slot.traffic();
  }

  /** Sessions opened since construction or `reset()`. */
  openCount(): number {
    return this.#opens;
  }

  /** Empties the reader silently, clears faults and the log; keeps listeners. */
  reset(): void {
    this.slot.reset();
    this.#session = undefined;
    this.#opens = 0;
  }

  #removed(): void {
    this.#session = undefined;
    this.#emit('removed');
  }

  #emit(event: ReaderEvent): void {
    for (const listener of [...this.#listeners[event]]) listener();
  }
}
