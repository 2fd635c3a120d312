import { HalError, type PinResult, type PinStatus, type SimCard } from '../hal/index.js';
import type { TerminalIdStorage, UiccSession } from '../uicc/index.js';
import { toHalError } from './pcsc-errors.js';

/**
 * The hal `SimCard` of a PcscCardReader: a UiccSession over one PC/SC
 * connection, errors mapped to HalError kinds. Once the reader saw the card
 * leave (`gone()`), or after `close()`, every call rejects 'card-removed'.
 */
export class PcscCardSession implements SimCard {
  readonly atr: Uint8Array;
  readonly application: 'sim' | 'usim';
  /** The transmission protocol PC/SC negotiated. */
  readonly protocol: 'T0' | 'T1';
  readonly #session: UiccSession;
  readonly #gone: () => boolean;
  readonly #onClose: () => Promise<void>;
  #closed = false;

  constructor(
    session: UiccSession,
    protocol: 'T0' | 'T1',
    gone: () => boolean,
    onClose: () => Promise<void>,
  ) {
    this.#session = session;
    this.protocol = protocol;
    this.#gone = gone;
    this.#onClose = onClose;
    this.atr = session.atr.slice();
    this.application = session.application;
  }

  iccid(): Promise<string> {
    return this.#call(() => this.#session.iccid());
  }

  imsi(): Promise<string> {
    return this.#call(() => this.#session.imsi());
  }

  pinStatus(): Promise<PinStatus> {
    return this.#call(() => this.#session.pinStatus());
  }

  verifyPin(pin: string): Promise<PinResult> {
    return this.#call(() => this.#session.verifyPin(pin));
  }

  unblockPin(puk: string, newPin: string): Promise<PinResult> {
    return this.#call(() => this.#session.unblockPin(puk, newPin));
  }

  readTerminalIds(): Promise<string[]> {
    return this.#call(() => this.#session.readTerminalIds());
  }

  writeTerminalIds(ids: readonly string[]): Promise<void> {
    return this.#call(() => this.#session.writeTerminalIds(ids));
  }

  /** Which storage holds the terminal-ID list on this card (proprietary file or EF_ADN). */
  terminalIdStorage(): Promise<TerminalIdStorage> {
    return this.#call(() => this.#session.terminalIdStorage());
  }

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    return this.#call(() => this.#session.transmit(apdu.slice()));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.close();
    await this.#onClose();
  }

  async #call<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new HalError('card-removed', 'the card session is closed');
    if (this.#gone()) throw new HalError('card-removed', 'the card left the reader');
    try {
      return await op();
    } catch (e) {
      throw toHalError(e);
    }
  }
}
