import { HalError } from '../hal/index.js';
import { withDeadline } from './deadline.js';
import { fromPcscError } from './pcsc-errors.js';
import { type NativeCardReader, nativeReader, SCARD } from './pcsc-native.js';

export type ShareMode = 'exclusive' | 'shared';
export type ProtocolChoice = 'T0' | 'T1' | 'any';
export type Disposition = 'leave' | 'reset' | 'unpower';

const SHARE: Record<ShareMode, number> = { exclusive: SCARD.SHARE_EXCLUSIVE, shared: SCARD.SHARE_SHARED };
const PROTOCOL: Record<ProtocolChoice, number> = {
  T0: SCARD.PROTOCOL_T0,
  T1: SCARD.PROTOCOL_T1,
  any: SCARD.PROTOCOL_T0 | SCARD.PROTOCOL_T1,
};
const DISPOSITION: Record<Disposition, number> = {
  leave: SCARD.LEAVE_CARD,
  reset: SCARD.RESET_CARD,
  unpower: SCARD.UNPOWER_CARD,
};

/** Short APDUs: 256 data bytes + SW1 SW2, within pcsc-lite's MAX_BUFFER_SIZE (264). */
const RESPONSE_BUFFER = 264;

export interface ConnectOptions {
  share: ShareMode;
  protocol: ProtocolChoice;
  /** Bound on each native call. */
  timeoutMs: number;
}

/**
 * One SCardConnect handle: transmit and disconnect, each bounded by a
 * deadline. A call that outlives its deadline leaves the native object
 * busy (node-pcsclite serialises calls on a mutex), so the connection is
 * then `wedged` and the reader must use a fresh one.
 */
export class PcscConnection {
  readonly protocol: 'T0' | 'T1';
  readonly #native: NativeCardReader;
  readonly #protocolCode: number;
  readonly #timeoutMs: number;
  readonly #what: string;
  #wedged = false;
  #connected = true;

  private constructor(native: NativeCardReader, protocolCode: number, timeoutMs: number, what: string) {
    this.#native = native;
    this.#protocolCode = protocolCode;
    this.protocol = protocolCode === SCARD.PROTOCOL_T1 ? 'T1' : 'T0';
    this.#timeoutMs = timeoutMs;
    this.#what = what;
  }

  /**
   * SCardConnect on `reader` through `native` (or a new native object).
   * Rejects 'no-card', 'busy', 'not-supported', 'card-blocked',
   * 'device-unavailable', or 'timeout', after which `native` must not be reused.
   */
  static async connect(
    native: NativeCardReader | undefined,
    reader: string,
    options: ConnectOptions,
  ): Promise<PcscConnection> {
    const handle = native ?? nativeReader(reader);
    const what = `PC/SC reader "${reader}"`;
    const protocolCode = await withDeadline<number | undefined>(
      options.timeoutMs,
      `connecting to ${what}`,
      (settle) =>
        handle._connect(SHARE[options.share], PROTOCOL[options.protocol], (error, protocol) =>
          settle(error ? fromPcscError(error, 'connect', `connecting to ${what}`) : undefined, protocol),
        ),
      // A connect that succeeds after its deadline must not keep the card.
      (error) => {
        if (!error) handle._disconnect(SCARD.LEAVE_CARD, () => {});
      },
    );
    return new PcscConnection(handle, protocolCode ?? SCARD.PROTOCOL_T0, options.timeoutMs, what);
  }

  /** The native object, reusable for the next connection unless a call on it timed out. */
  get native(): NativeCardReader | undefined {
    return this.#wedged ? undefined : this.#native;
  }

  get wedged(): boolean {
    return this.#wedged;
  }

  /** One APDU; PC/SC errors come back as HalErrors of the 'transmit' phase. */
  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.#wedged) return Promise.reject(new HalError('timeout', `${this.#what} stopped answering`));
    return withDeadline<Uint8Array>(this.#timeoutMs, `APDU to ${this.#what}`, (settle) =>
      this.#native._transmit(Buffer.from(apdu), RESPONSE_BUFFER, this.#protocolCode, (error, response) =>
        settle(
          error ? fromPcscError(error, 'transmit', `APDU to ${this.#what}`) : undefined,
          response === undefined ? undefined : new Uint8Array(response),
        ),
      ),
    ).catch((e: unknown) => {
      if (e instanceof HalError && e.kind === 'timeout') this.#wedged = true;
      throw e;
    });
  }

  /** SCardDisconnect with `disposition`; idempotent, never rejects (the card may be gone already). */
  async disconnect(disposition: Disposition): Promise<void> {
    if (!this.#connected || this.#wedged) return;
    this.#connected = false;
    await withDeadline<void>(this.#timeoutMs, `disconnecting ${this.#what}`, (settle) =>
      this.#native._disconnect(DISPOSITION[disposition], () => settle(undefined)),
    ).catch(() => {
      this.#wedged = true;
    });
  }
}
