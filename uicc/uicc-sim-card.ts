import {
  type AkaResult,
  type CardFilePath,
  HalError,
  type PinResult,
  type PinStatus,
  type SimCard,
} from '../hal/index.js';
import { toHalError } from './card-errors.js';
import type { UiccSession } from './uicc-session.js';

/** Card operations a device answers itself rather than through APDUs (a modem's +CPIN, +CCID, +CIMI). */
export type DeviceCardOperations = Pick<SimCard, 'iccid' | 'imsi' | 'pinStatus' | 'verifyPin' | 'unblockPin'>;

export interface UiccSimCardOptions {
  /** The APDU session; absent when the device passes no APDUs (a modem without AT+CSIM). */
  session?: UiccSession;
  /** The ATR, when there is no session to take it from. */
  atr?: Uint8Array;
  /**
   * False once the card this session was opened on has left (or the reader
   * closed, or the modem restarted). Default: the transport reports removal
   * itself by rejecting 'card-removed'.
   */
  present?: () => boolean;
  /** Runs once, at the first `close()`, after the session closed: the reader frees its handle. */
  release?: () => void | Promise<void>;
  /** Operations the device answers instead of the card; the rest go to `session`. */
  device?: DeviceCardOperations;
}

/**
 * The hal `SimCard` of every card HAL: a UiccSession (or a device's own
 * commands) behind one guard. Before and after each call it checks the card
 * is still the one it was opened on; every error leaves as a HalError by the
 * one mapping of card-errors.ts; after `close()` or removal every call
 * rejects 'card-removed'.
 */
export class UiccSimCard implements SimCard {
  readonly atr: Uint8Array;
  readonly application: 'sim' | 'usim';
  readonly #session: UiccSession | undefined;
  readonly #present: () => boolean;
  readonly #release: () => void | Promise<void>;
  readonly #device: DeviceCardOperations | undefined;
  #closed = false;

  constructor(options: UiccSimCardOptions) {
    const { session } = options;
    const atr = options.atr ?? session?.atr;
    if (atr === undefined) throw new HalError('not-supported', 'a SimCard needs a session or an ATR');
    this.atr = atr.slice();
    this.application = session?.application ?? 'usim';
    this.#session = session;
    this.#present = options.present ?? (() => true);
    this.#release = options.release ?? (() => {});
    this.#device = options.device;
  }

  iccid(): Promise<string> {
    return this.#call(() => (this.#device ? this.#device.iccid() : this.#uicc().iccid()));
  }

  imsi(): Promise<string> {
    return this.#call(() => (this.#device ? this.#device.imsi() : this.#uicc().imsi()));
  }

  pinStatus(): Promise<PinStatus> {
    return this.#call(() => (this.#device ? this.#device.pinStatus() : this.#uicc().pinStatus()));
  }

  verifyPin(pin: string): Promise<PinResult> {
    return this.#call(() => (this.#device ? this.#device.verifyPin(pin) : this.#uicc().verifyPin(pin)));
  }

  unblockPin(puk: string, newPin: string): Promise<PinResult> {
    return this.#call(() =>
      this.#device ? this.#device.unblockPin(puk, newPin) : this.#uicc().unblockPin(puk, newPin),
    );
  }

  readRecords(path: CardFilePath): Promise<Uint8Array[]> {
    return this.#call(() => this.#uicc().readRecords(path));
  }

  updateRecord(path: CardFilePath, record: number, data: Uint8Array): Promise<void> {
    return this.#call(() => this.#uicc().updateRecord(path, record, data));
  }

  authenticate(rand: Uint8Array, autn: Uint8Array): Promise<AkaResult> {
    return this.#call(() => this.#uicc().authenticate(rand, autn));
  }

  runGsmAlgorithm(rand: Uint8Array): Promise<{ sres: Uint8Array; kc: Uint8Array }> {
    return this.#call(() => this.#uicc().runGsmAlgorithm(rand));
  }

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    return this.#call(() => this.#uicc().transmit(apdu.slice()));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#session?.close();
    await this.#release();
  }

  #uicc(): UiccSession {
    if (this.#session === undefined) throw new HalError('not-supported', 'this device does not pass APDUs');
    return this.#session;
  }

  async #call<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new HalError('card-removed', 'the card session is closed');
    if (!this.#present()) throw removed();
    try {
      const result = await op();
      // An answer that arrives after the card left may be another card's.
      if (!this.#present()) throw removed();
      return result;
    } catch (e) {
      const error = toHalError(e);
      // A timeout says so even if the card left meanwhile: the command outlived its bound.
      if (error.kind === 'card-removed' || error.kind === 'timeout') throw error;
      if (!this.#present() || error.kind === 'no-card') throw removed(error);
      throw error;
    }
  }
}

function removed(cause?: unknown): HalError {
  return new HalError('card-removed', 'the card left the reader', cause === undefined ? {} : { cause });
}
