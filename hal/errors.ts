/**
 * Typed hardware errors. Callers switch on `kind`, never on message text
 * (STYLE.md §2). Every HAL implementation throws only `HalError` for
 * hardware conditions; anything else escaping a HAL is a bug.
 */
export type HalErrorKind =
  /** The card left the reader, before or during an operation. */
  | 'card-removed'
  /** No card is in the reader (nothing to open). */
  | 'no-card'
  /** The card is unusable (PUK blocked, or answered garbage / no ATR). */
  | 'card-blocked'
  /** PIN1 was presented and refused; `retriesLeft` says how many tries remain. */
  | 'pin-wrong'
  /** PIN1 is blocked (0 tries left); only UNBLOCK PIN with the PUK helps. */
  | 'pin-blocked'
  /** The operation needs PIN1 verified first (SW 6982 / 9804). */
  | 'pin-required'
  /** The card answered an unexpected status word; `sw` holds it. */
  | 'card-error'
  /** Another process or terminal holds the card or the port. */
  | 'busy'
  /** A wait ran out; nothing was left half-done unless the kind's doc says so. */
  | 'timeout'
  /** The radio link is down or the stream to the server broke. */
  | 'link-down'
  /** Stored bytes fail their checksum or structure; the store refuses to guess. */
  | 'store-corrupt'
  /** The store or card has no room for what was asked. */
  | 'no-space'
  /** Power failed during the operation (simulation and write-through stores). */
  | 'power-lost'
  /** The device cannot do this at all (e.g. a modem without AT+CSIM). */
  | 'not-supported'
  /** The device or driver is absent or failed (no pcscd, port vanished). */
  | 'device-unavailable'
  /**
   * Something no other kind names (embedded-hal's `ErrorKind::Other`): an
   * implementation bug or a failure its driver does not classify; `cause`
   * holds the original. Every peripheral's kinds include it.
   */
  | 'other';

export interface HalErrorFields {
  /** PIN tries left, for 'pin-wrong' (and 0 for 'pin-blocked'). */
  retriesLeft?: number;
  /** The card's status word, for 'card-error' and card-originated kinds. */
  sw?: number;
  /** For 'store-corrupt': the damaged file, and the byte offset where the damage was found. */
  file?: string;
  offset?: number;
  /** The lower-level error, when one exists. */
  cause?: unknown;
}

/**
 * A hardware error. `K` narrows the kind to one peripheral's kinds
 * (`CardErrorKind`, `LinkErrorKind`, `StoreErrorKind`, `BatteryErrorKind`,
 * `IdleErrorKind`), so a caller's switch over it is checked for exhaustiveness.
 */
export class HalError<K extends HalErrorKind = HalErrorKind> extends Error {
  override readonly name = 'HalError';
  readonly kind: K;
  readonly retriesLeft: number | undefined;
  readonly sw: number | undefined;
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(kind: K, message: string, fields: HalErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.kind = kind;
    this.retriesLeft = fields.retriesLeft;
    this.sw = fields.sw;
    this.file = fields.file;
    this.offset = fields.offset;
  }
}

/** True when `e` is a HalError, optionally of one of `kinds`. */
export function isHalError(e: unknown, ...kinds: HalErrorKind[]): e is HalError {
  return e instanceof HalError && (kinds.length === 0 || kinds.includes(e.kind));
}

/** A function that removes the listener it was returned for. */
export type Unsubscribe = () => void;
