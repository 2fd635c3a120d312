import { isHalError } from '../../hal/index.js';

/**
 * How `promise` settles, as a HAL test asserts on it: the HalError's kind
 * (the string callers switch on, STYLE.md "Errors have kinds"), 'resolved'
 * when it does not reject, or a line naming what else it threw.
 */
export async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (e) {
    return isHalError(e) ? e.kind : `not a HalError: ${String(e)}`;
  }
}
