import { SCARD } from './pcsc-native.js';

/** What one SCardGetStatusChange report means for the slot. */
export interface SlotChange {
  /** A card is in the slot now. */
  present: boolean;
  /**
   * A card left and one (maybe the same) came back since the last report:
   * pcsc-lite counts insertions and removals in the high word of
   * dwEventState, so a jump of 2 or more while present both times is a
   * removal the polls did not show.
   */
  swapped: boolean;
  /** The event counter, to pass as `lastEvents` next time. */
  events: number;
}

/**
 * Decodes a reader's dwEventState. `lastEvents` is the previous report's
 * counter (-1 before the first), `wasPresent` what the previous report said.
 * An unknown or unavailable reader (unplugged) has no card.
 */
export function slotChange(state: number, lastEvents: number, wasPresent: boolean): SlotChange {
  const events = state >>> 16;
  if (state & (SCARD.STATE_UNKNOWN | SCARD.STATE_UNAVAILABLE))
    return { present: false, swapped: false, events };
  const present = (state & SCARD.STATE_PRESENT) !== 0;
  const swapped = lastEvents >= 0 && wasPresent && present && events - lastEvents >= 2;
  return { present, swapped, events };
}
