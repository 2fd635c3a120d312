import { type Clock, HalError, type TimerId } from '../hal/index.js';

/**
 * The card side of a slot: what the virtual UICC of uicc/ offers. Typed
 * structurally so any card-side APDU processor fits.
 */
export interface CardChip {
  /** Cold reset; returns the ATR. */
  powerOn(): Uint8Array;
  powerOff(): void;
  /** One command APDU in, response data + SW1 SW2 out. Never throws. */
  process(apdu: Uint8Array): Uint8Array;
}

/** A raw APDU pipe bound to one insertion of a card (uicc/'s ApduTransport shape). */
export interface SlotTransport {
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
}

/** One exchange, as hex (upper case, no spaces). `response` is absent when the card was yanked. */
export interface ApduRecord {
  command: string;
  response?: string;
  /** `clock.now()` when sent, if the slot has a clock. */
  at: number | undefined;
}

/** A card powered in a slot, for as long as it stays in. */
export interface PoweredCard {
  atr: Uint8Array;
  transport: SlotTransport;
  powerOff: () => void;
}

export interface SimSlotOptions {
  /** Drives `apduDelayMs`. */
  clock?: Clock;
  /** Time each APDU takes on `clock`, so a test can pull the card mid-command. Default 0. */
  apduDelayMs?: number;
  /**
   * With a clock: an APDU the card does not answer (see `hang()`) rejects
   * HalError 'timeout' after this long, as a real reader's command timeout
   * would. Default none: it waits until the card is pulled or its session closed.
   */
  commandTimeoutMs?: number;
}

export interface YankOptions {
  /** The card executes the interrupted command before it goes (its answer is lost). Default false. */
  processed?: boolean;
}

interface InFlight {
  reject: (error: HalError) => void;
  timer: TimerId | undefined;
  /** The power-on it belongs to (see `powerOn`). */
  power: number;
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');

/**
 * A physical card slot: holds a card chip, carries APDUs to it with an
 * optional delay, and knows which insertion a transport belongs to. Pulling
 * the card rejects the APDU in flight with HalError 'card-removed' at once
 * (never waiting for the clock), and every transport of that insertion
 * rejects 'card-removed' from then on, even after a card is put back.
 */
export class SimSlot {
  readonly #clock: Clock | undefined;
  readonly #commandTimeoutMs: number | undefined;
  #delay: number;
  #hung = false;
  #power = 0;
  #card: CardChip | undefined;
  #insertion = 0;
  #inFlight = new Set<InFlight>();
  #yank: { remaining: number; processed: boolean } | undefined;
  #log: ApduRecord[] = [];
  /** Called when the slot pulls the card itself (`yankAfterApdus`), so the reader can announce it. */
  onYank: (() => void) | undefined;

  constructor(options: SimSlotOptions = {}) {
    this.#clock = options.clock;
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#delay = 0;
    this.setApduDelay(options.apduDelayMs ?? 0);
  }

  card(): CardChip | undefined {
    return this.#card;
  }

  /** Puts `card` in the slot. Rejects 'busy' when the slot is occupied. */
  insert(card: CardChip): void {
    if (this.#card !== undefined) throw new HalError('busy', 'the slot already holds a card');
    this.#card = card;
    this.#insertion++;
  }

  /** Pulls the card, at any moment. Returns false when the slot was empty. */
  remove(): boolean {
    const card = this.#card;
    if (card === undefined) return false;
    this.#card = undefined;
    this.#insertion++;
    this.#yank = undefined;
    this.#hung = false;
    card.powerOff();
    this.#abort(() => true, 'card removed during the command');
    return true;
  }

  #abort(which: (flight: InFlight) => boolean, why: string): void {
    for (const flight of [...this.#inFlight]) {
      if (!which(flight)) continue;
      this.#inFlight.delete(flight);
      if (flight.timer !== undefined) this.#clock?.clearTimeout(flight.timer);
      flight.reject(new HalError('card-removed', why));
    }
  }

  /**
   * Powers the card (cold reset). The transport and `powerOff` act on this
   * insertion only: once the card is pulled they reject 'card-removed' and do
   * nothing, respectively. `powerOff` rejects this power-on's APDUs still
   * waiting (a hung card) with 'card-removed' at once. Throws 'no-card' on an
   * empty slot.
   */
  powerOn(): PoweredCard {
    const card = this.#card;
    if (card === undefined) throw new HalError('no-card', 'no card in the slot');
    const insertion = this.#insertion;
    const power = ++this.#power;
    return {
      atr: card.powerOn(),
      transport: { transmit: (apdu) => this.#transmit(insertion, power, apdu) },
      powerOff: () => {
        this.#abort((flight) => flight.power === power, 'the card session was closed');
        if (insertion === this.#insertion) card.powerOff();
      },
    };
  }

  /**
   * The card stops answering (a wedged chip): every APDU from now on waits
   * until the card is pulled, its session closes, or `commandTimeoutMs`
   * passes on the clock. Cleared by removal and `reset()`.
   */
  hang(): void {
    this.#hung = true;
  }

  /** Time each APDU takes on the clock (needs a clock when > 0). */
  setApduDelay(ms: number): void {
    if (ms > 0 && this.#clock === undefined) throw new HalError('not-supported', 'apduDelayMs needs a clock');
    this.#delay = Math.max(0, ms);
  }

  /**
   * After `n` more APDUs complete, the card is pulled as the next one is
   * sent: that APDU rejects 'card-removed' (by default the card never saw it).
   */
  yankAfterApdus(n: number, options: YankOptions = {}): void {
    this.#yank = { remaining: Math.max(0, n), processed: options.processed ?? false };
  }

  /** Every exchange since construction or `reset()`, oldest first. */
  traffic(): ApduRecord[] {
    return this.#log.map((r) => ({ ...r }));
  }

  /** Empties the slot (without announcing it), clears faults and the log. */
  reset(): void {
    this.remove();
    this.#hung = false;
    this.#log = [];
  }

  async #transmit(insertion: number, power: number, apdu: Uint8Array): Promise<Uint8Array> {
    const record: ApduRecord = { command: hex(apdu), at: this.#clock?.now() };
    this.#log.push(record);
    if (insertion !== this.#insertion || this.#card === undefined) {
      throw new HalError('card-removed', 'the card of this session was removed');
    }
    if (this.#yank !== undefined && this.#yank.remaining-- === 0) {
      if (this.#yank.processed) this.#card.process(apdu.slice());
      this.remove();
      this.onYank?.();
      throw new HalError('card-removed', 'card removed during the command (injected)');
    }
    if (this.#hung) await this.#wait(power, 'hung');
    if (this.#delay > 0) await this.#wait(power, 'delay');
    const card = this.#card;
    if (insertion !== this.#insertion || card === undefined) {
      throw new HalError('card-removed', 'card removed during the command');
    }
    const response = card.process(apdu.slice());
    record.response = hex(response);
    return response;
  }

  /** 'delay': resolves after the APDU delay. 'hung': never resolves; rejects at removal, power-off or the command timeout. */
  #wait(power: number, why: 'delay' | 'hung'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const flight: InFlight = { reject, timer: undefined, power };
      this.#inFlight.add(flight);
      if (why === 'delay') {
        flight.timer = this.#clock?.setTimeout(() => {
          this.#inFlight.delete(flight);
          resolve();
        }, this.#delay);
        return;
      }
      const timeout = this.#commandTimeoutMs;
      if (timeout === undefined || this.#clock === undefined) return;
      flight.timer = this.#clock.setTimeout(() => {
        this.#inFlight.delete(flight);
        reject(new HalError('timeout', `the card did not answer within ${timeout} ms`));
      }, timeout);
    });
  }
}
