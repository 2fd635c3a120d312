import { HalError, type HalErrorKind, type PinResult, type PinStatus, type SimCard } from '../hal/index.js';
import { isUiccError, type UiccErrorKind, type UiccSession } from '../uicc/index.js';

/** How the APDU layer's error kinds read at the HAL (hal/errors.ts). */
const KIND_MAP: Record<UiccErrorKind, HalErrorKind> = {
  'pin-required': 'pin-required',
  'pin-wrong': 'pin-wrong',
  'pin-blocked': 'pin-blocked',
  'card-error': 'card-error',
  'no-space': 'no-space',
  'not-found': 'card-error',
  // The card answered bytes that do not parse: still the card's fault.
  'bad-response': 'card-error',
  'bad-encoding': 'card-error',
  'bad-check-digit': 'card-error',
  // The caller asked for something no card can encode (a 3-digit PIN, an oversized ID).
  'bad-argument': 'not-supported',
  'bad-apdu': 'not-supported',
  closed: 'card-removed',
};

/** Turns whatever the APDU layer threw into a HalError; HalErrors from the slot pass unchanged. */
export function toHalError(e: unknown): HalError {
  if (e instanceof HalError) return e;
  if (isUiccError(e)) {
    const fields = { cause: e, ...(e.sw === undefined ? {} : { sw: e.sw }) };
    return new HalError(KIND_MAP[e.kind], e.message, {
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
