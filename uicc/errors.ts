/**
 * Typed errors of the APDU layer (STYLE.md §2): callers switch on `kind`,
 * never on message text. Kinds that also exist in hal/errors.ts HalErrorKind
 * ('pin-required', 'pin-wrong', 'pin-blocked', 'card-error', 'no-space') use
 * the same strings so a HAL can map them 1:1.
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

/**
 * How each kind reads at a device HAL: the kind names of hal/errors.ts
 * HalErrorKind, spelled here as strings because uicc/ imports nothing. Every
 * HAL that wraps a UiccSession (simulated, PC/SC, modem) uses this one table.
 */
export type DeviceErrorKind =
  | 'pin-required'
  | 'pin-wrong'
  | 'pin-blocked'
  | 'card-error'
  | 'no-space'
  | 'not-supported'
  | 'card-removed';

const DEVICE_KIND: Record<UiccErrorKind, DeviceErrorKind> = {
  'pin-required': 'pin-required',
  'pin-wrong': 'pin-wrong',
  'pin-blocked': 'pin-blocked',
  'card-error': 'card-error',
  'no-space': 'no-space',
  'not-found': 'card-error',
  // Bytes from the card that do not parse are still the card's fault.
  'bad-response': 'card-error',
  'bad-encoding': 'card-error',
  'bad-check-digit': 'card-error',
  // The caller asked for something no card can encode (a 3-digit PIN, an oversized ID).
  'bad-argument': 'not-supported',
  'bad-apdu': 'not-supported',
  closed: 'card-removed',
};

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

  /** This error's kind in the HAL's vocabulary (see DeviceErrorKind). */
  get deviceKind(): DeviceErrorKind {
    return DEVICE_KIND[this.kind];
  }
}

/** True when `e` is a UiccError, optionally of one of `kinds`. */
export function isUiccError(e: unknown, ...kinds: UiccErrorKind[]): e is UiccError {
  return e instanceof UiccError && (kinds.length === 0 || kinds.includes(e.kind));
}
