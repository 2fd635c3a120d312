import type { HalErrorKind, Unsubscribe } from './errors.js';

/** What an IdleSensor's `read()` rejects with. */
export type IdleErrorKind = Extract<HalErrorKind, 'timeout' | 'device-unavailable' | 'other'>;

/** The idle conditions of [0081]. */
export interface IdleState {
  /** (1) No predetermined process (storing, input, display, communication) is running. */
  noForegroundWork: boolean;
  /** (2) Milliseconds since the user's last operation. */
  msSinceInput: number;
  /** (3) The body state changed, e.g. a flip phone folded or a laptop lid closed. */
  lidClosed: boolean;
}

/**
 * Reports the terminal's idle state (FIG. 21). `read()` settles promptly,
 * rejecting only with IdleErrorKind. `onChange` fires whenever any condition
 * changes (a polling implementation within its poll period), with the new
 * state, so FIG. 21's "wait for the idle notice" ([0087]) needs no polling;
 * it does not fire while nothing changed, nor after its Unsubscribe.
 */
export interface IdleSensor {
  read(): Promise<IdleState>;
  onChange(listener: (state: IdleState) => void): Unsubscribe;
}
