import { HalError } from '../hal/index.js';
import { withDeadline } from './deadline.js';
import { fromPcscError } from './pcsc-errors.js';
import { type NativeCardReader, SCARD } from './pcsc-native.js';

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
 * deadline. node-pcsclite serialises calls on a native mutex, so a call that
 * outlives its deadline blocks the handle: until it returns (a pulled card
 * ends it) the connection is `stalled`, further APDUs reject 'timeout' at
 * once, and `disconnect` waits for it (within a deadline) before releasing
 * the handle, so no exclusive lock is left behind on pcscd.
 */
export class PcscConnection {
  readonly protocol: 'T0' | 'T1';
  readonly native: NativeCardReader;
  readonly #protocolCode: number;
  readonly #timeoutMs: number;
  readonly #what: string;
  #connected = true;
  #stalled: Promise<void> | undefined;

  private constructor(native: NativeCardReader, protocolCode: number, timeoutMs: number, what: string) {
    this.native = native;
    this.#protocolCode = protocolCode;
    this.protocol = protocolCode === SCARD.PROTOCOL_T1 ? 'T1' : 'T0';
    this.#timeoutMs = timeoutMs;
    this.#what = what;
  }

  /**
   * SCardConnect on `reader` through `native`.
   * Rejects 'no-card', 'busy', 'not-supported', 'card-blocked',
   * 'device-unavailable', or 'timeout', after which `native` must not be reused.
   */
  static async connect(
    native: NativeCardReader,
    reader: string,
    options: ConnectOptions,
  ): Promise<PcscConnection> {
    const handle = native;
    const what = `PC/SC reader "${reader}"`;
    const protocolCode = await withDeadline<number | undefined>(
      options.timeoutMs,
      `connecting to ${what}`,
      (settle) =>
        handle._connect(SHARE[options.share], PROTOCOL[options.protocol], (error, protocol) =>
          settle(error ? fromPcscError(error, 'connect', `connecting to ${what}`) : undefined, protocol),
        ),
      {
        // A connect that succeeds after its deadline must not keep the card.
        onLate: (error) => {
          if (!error) handle._disconnect(SCARD.LEAVE_CARD, () => {});
        },
      },
    );
    return new PcscConnection(handle, protocolCode ?? SCARD.PROTOCOL_T0, options.timeoutMs, what);
  }

  /** A native call is still running past its deadline. */
  get stalled(): boolean {
    return this.#stalled !== undefined;
  }

  /** One APDU; PC/SC errors come back as HalErrors of the 'transmit' phase. */
  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.#stalled) return Promise.reject(new HalError('timeout', `${this.#what} stopped answering`));
    return this.#bounded<Uint8Array>(`APDU to ${this.#what}`, (settle) =>
      this.native._transmit(Buffer.from(apdu), RESPONSE_BUFFER, this.#protocolCode, (error, response) =>
        settle(
          error ? fromPcscError(error, 'transmit', `APDU to ${this.#what}`) : undefined,
          response === undefined ? undefined : new Uint8Array(response),
        ),
      ),
    );
  }

  /**
   * SCardDisconnect with `disposition`, after any stalled call has returned
   * (waiting at most the command timeout for it). Idempotent; never rejects
   * (the card may be gone already). Resolves false when the handle could not
   * be released, so its native object must not be reused.
   */
  async disconnect(disposition: Disposition): Promise<boolean> {
    if (!this.#connected) return !this.#stalled;
    this.#connected = false;
    const stalled = this.#stalled;
    if (stalled) {
      const deadline = new Promise((resolve) => setTimeout(resolve, this.#timeoutMs).unref());
      await Promise.race([stalled, deadline]);
      if (this.stalled) {
        // Release the handle whenever the stuck call ends, so no lock outlives it.
        void stalled.then(() => this.native._disconnect(SCARD.LEAVE_CARD, () => {}));
        return false;
      }
    }
    return this.#bounded<void>(`disconnecting ${this.#what}`, (settle) =>
      this.native._disconnect(DISPOSITION[disposition], () => settle(undefined)),
    ).then(
      () => true,
      () => false,
    );
  }

  #bounded<T>(what: string, start: (settle: (error: unknown, value?: T) => void) => void): Promise<T> {
    let returned: () => void = () => {};
    return withDeadline<T>(this.#timeoutMs, what, start, {
      onTimeout: () => {
        this.#stalled = new Promise((resolve) => {
          returned = resolve;
        });
      },
      onLate: () => {
        this.#stalled = undefined;
        returned();
      },
    });
  }
}
