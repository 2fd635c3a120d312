import { HalError, type HalErrorKind } from '../hal/index.js';
import { isUiccError, type UiccErrorKind } from '../uicc/index.js';

/** How the APDU layer's error kinds read at the HAL (hal/errors.ts). */
const KIND_MAP: Record<UiccErrorKind, HalErrorKind> = {
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

/** Whatever the APDU layer or the AT engine threw, as a HalError (HalErrors pass unchanged). */
export function toHalError(e: unknown): HalError {
  if (e instanceof HalError) return e;
  if (isUiccError(e)) {
    return new HalError(KIND_MAP[e.kind], e.message, {
      cause: e,
      ...(e.sw === undefined ? {} : { sw: e.sw }),
      ...(e.retriesLeft === undefined ? {} : { retriesLeft: e.retriesLeft }),
    });
  }
  return new HalError('device-unavailable', 'unexpected failure talking to the modem', { cause: e });
}
