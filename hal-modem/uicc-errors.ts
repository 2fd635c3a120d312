import { HalError } from '../hal/index.js';
import { isUiccError } from '../uicc/index.js';

/** Whatever the APDU layer or the AT engine threw, as a HalError (HalErrors pass unchanged). */
export function toHalError(e: unknown): HalError {
  if (e instanceof HalError) return e;
  if (isUiccError(e)) {
    return new HalError(e.deviceKind, e.message, {
      cause: e,
      ...(e.sw === undefined ? {} : { sw: e.sw }),
      ...(e.retriesLeft === undefined ? {} : { retriesLeft: e.retriesLeft }),
    });
  }
  return new HalError('device-unavailable', 'unexpected failure talking to the modem', { cause: e });
}
