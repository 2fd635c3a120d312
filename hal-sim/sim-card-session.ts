import { HalError, type PinResult, type PinStatus, type SimCard } from '../hal/index.js';
import { isUiccError, type UiccSession } from '../uicc/index.js';

/** Turns whatever the APDU layer threw into a HalError; HalErrors from the slot pass unchanged. */
export function toHalError(e: unknown): HalError {
  if (e instanceof HalError) return e;
  if (isUiccError(e)) {
    const fields = { cause: e, ...(e.sw === undefined ? {} : { sw: e.sw }) };
    return new HalError(e.deviceKind, e.message, {
      ...fields,
      ...(e.retriesLeft === undefined ? {} : { retriesLeft: e.retriesLeft }),
    });
  }
  return new HalError('card-error', 'unexpected failure talking to the card', { cause: e });
}

/**
 * The hal `SimCard` of a SimCardReader: a UiccSession over the slot, with
 * errors mapped to HalError kinds. After `close()` or removal every call
 * rejects 'card-removed'.
 */
export class SimCardSession implements SimCard {
  readonly atr: Uint8Array;
  readonly application: 'sim' | 'usim';
  readonly #session: UiccSession;
  readonly #onClose: () => void;
  #closed = false;

  constructor(session: UiccSession, onClose: () => void) {
    this.#session = session;
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

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    return this.#call(() => this.#session.transmit(apdu.slice()));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session.close();
    this.#onClose();
  }

  async #call<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new HalError('card-removed', 'the card session is closed');
    try {
      return await op();
    } catch (e) {
      throw toHalError(e);
    }
  }
}
