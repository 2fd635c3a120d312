/**
 * Typed errors of the APDU layer (STYLE.md §2): callers switch on `kind`,
 * never on message text. They stay inside uicc/ and the HALs that drive a
 * UiccSession: `toHalError` (card-errors.ts) turns each into the HAL's
 * CardErrorKind, so nothing above the HAL sees a UiccError.
 */
export type UiccErrorKind =
  /** The card refused access until PIN1 is verified (SW 6982 / 9804). */
  | 'pin-required'
  /** PIN1 was presented and refused; `retriesLeft` says how many tries remain. */
  | 'pin-wrong'
  /** PIN1 (or the PUK) is blocked (SW 6983 / 9840). */
  | 'pin-blocked'
  /** The card answered a status word the operation cannot accept; `sw` holds it. */
  | 'card-error'
  /** The card has no room for what was asked; nothing was changed. */
  | 'no-space'
  /** The card's answer is malformed (too short, bad TLV, endless chaining). */
  | 'bad-response'
  /** A caller passed a value the operation cannot encode (checked before any APDU is sent). */
  | 'bad-argument'
  /** A command APDU's bytes are not a valid ISO 7816-4 short APDU. */
  | 'bad-apdu'
  /** Stored bytes (EF contents) do not decode: bad BCD digit, bad length. */
  | 'bad-encoding'
  /** An ICCID's Luhn check digit is wrong (ITU-T E.118). */
  | 'bad-check-digit'
  /** The file or application does not exist on this card (SW 6A82 / 9404). */
  | 'not-found'
  /** The session was closed; open a new one. */
  | 'closed';

export interface UiccErrorFields {
  /** The card's status word, for card-originated kinds. */
  sw?: number;
  /** PIN (or PUK) tries left, for 'pin-wrong' and 'pin-blocked' (0). */
  retriesLeft?: number;
  cause?: unknown;
}

export class UiccError extends Error {
  override readonly name = 'UiccError';
  readonly kind: UiccErrorKind;
  readonly sw: number | undefined;
  readonly retriesLeft: number | undefined;

  constructor(kind: UiccErrorKind, message: string, fields: UiccErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.kind = kind;
    this.sw = fields.sw;
    this.retriesLeft = fields.retriesLeft;
  }
}

/** True when `e` is a UiccError, optionally of one of `kinds`. */
export function isUiccError(e: unknown, ...kinds: UiccErrorKind[]): e is UiccError {
  return e instanceof UiccError && (kinds.length === 0 || kinds.includes(e.kind));
}
