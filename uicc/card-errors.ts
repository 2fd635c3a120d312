import { type CardErrorKind, HalError, isHalError } from '../hal/index.js';
import { isUiccError, type UiccErrorKind } from './errors.js';

/** Each APDU-layer kind as the HAL's card kind. */
const CARD_KIND: Record<UiccErrorKind, CardErrorKind> = {
  'pin-required': 'pin-required',
  'pin-wrong': 'pin-wrong',
  'pin-blocked': 'pin-blocked',
  'card-error': 'card-error',
  'no-space': 'no-space',
  // The SW (6A82 / 9404) stays in `sw`, so a caller probing for a file can still tell.
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

/**
 * Whatever a card operation threw, as a HalError: a UiccError by the table
 * above (keeping `sw` and `retriesLeft`), a HalError from the transport (card
 * removed, timeout) unchanged, anything else 'other' with it as the cause.
 * The one mapping every card HAL (simulated, PC/SC, modem) uses.
 */
export function toHalError(e: unknown): HalError {
  if (isHalError(e)) return e;
  if (isUiccError(e)) {
    return new HalError(CARD_KIND[e.kind], e.message, {
      cause: e,
      ...(e.sw === undefined ? {} : { sw: e.sw }),
      ...(e.retriesLeft === undefined ? {} : { retriesLeft: e.retriesLeft }),
    });
  }
  return new HalError('other', 'unexpected failure talking to the card', { cause: e });
}

/**
 * Why `UiccSession.open` failed, as the HalError a reader's `open()`
 * rejects with (hal/card-reader.ts). Conditions of the transport
 * ('card-removed', 'no-card', 'timeout', 'busy', 'device-unavailable') pass
 * through; a USIM whose answer does not decode is 'card-error' (the card
 * works, this terminal cannot read it); anything else means the card answers
 * as neither SIM nor USIM: 'card-blocked'.
 */
export function openFailure(e: unknown): HalError {
  const error = toHalError(e);
  if (isHalError(error, 'card-removed', 'no-card', 'timeout', 'busy', 'device-unavailable')) return error;
  if (isUiccError(e, 'bad-response')) {
    return new HalError(
      'card-error',
      `the card's USIM answers in a form this terminal cannot read: ${e.message}`,
      {
        cause: e,
      },
    );
  }
  return new HalError('card-blocked', 'the card does not answer as a SIM or USIM', { cause: error });
}
