import type { Unsubscribe } from './errors.js';

/**
 * A slot that may hold a SIM/USIM (FIG. 3, card reader writer 11).
 *
 * Promises:
 * - 'inserted' and 'removed' fire once per physical change, in order, never
 *   twice in a row with the same event.
 * - `open()` on an empty slot rejects with HalError 'no-card'; it never waits
 *   for a card to arrive.
 */
export interface CardReader {
  /** Human-readable reader name (PC/SC reader name, tty path, "sim-0"). */
  readonly name: string;
  /** Whether a card is in the slot now. */
  present(): boolean;
  on(event: 'inserted' | 'removed', listener: () => void): Unsubscribe;
  /** Powers the card and starts a session. Rejects 'no-card', 'busy', 'card-blocked', 'timeout'. */
  open(): Promise<SimCard>;
}

/** Result of presenting PIN1 to the card. The card decides; software never compares PINs. */
export type PinResult = { status: 'ok' } | { status: 'wrong'; retriesLeft: number } | { status: 'blocked' };

export interface PinStatus {
  /** PIN1 verified in this card session (or PIN1 disabled on the card). */
  verified: boolean;
  /** Tries left for PIN1 (0 = blocked). */
  retriesLeft: number;
}

/**
 * An open card session (the SIM card 12 of the patent).
 *
 * Promises:
 * - Every method settles within the reader's command timeout: a card removed
 *   before or during a command rejects with HalError 'card-removed', never hangs.
 *   After removal every later call rejects 'card-removed'.
 * - A write (`writeTerminalIds`) interrupted by removal leaves the card's list
 *   either as before or as written per record (the card updates whole records);
 *   readers of the list must tolerate a partly updated list.
 * - PIN tries are counted by the card: a wrong PIN costs a try even if the
 *   terminal loses power right after.
 */
export interface SimCard {
  /** Answer To Reset, as received. */
  readonly atr: Uint8Array;
  /** The card generation used for this session: 2G SIM (CLA A0) or 3G USIM (CLA 00). */
  readonly application: 'sim' | 'usim';
  /** ICCID (EF_ICCID, readable without PIN), digits only, Luhn-checked. */
  iccid(): Promise<string>;
  /** IMSI (EF_IMSI). Rejects 'pin-required' until PIN1 is verified. */
  imsi(): Promise<string>;
  pinStatus(): Promise<PinStatus>;
  /** Presents PIN1 (4–8 digits). Rejects only on transport errors; a refusal is a result. */
  verifyPin(pin: string): Promise<PinResult>;
  /** UNBLOCK PIN with the PUK, setting a new PIN1. */
  unblockPin(puk: string, newPin: string): Promise<PinResult>;
  /**
   * FIG. 11-A/B: the IDs of terminals associated with this SIM, as stored on
   * the card. Rejects 'pin-required' before PIN1.
   */
  readTerminalIds(): Promise<string[]>;
  /** Replaces the list. Rejects 'no-space' when the card cannot hold it, changing nothing. */
  writeTerminalIds(ids: readonly string[]): Promise<void>;
  /** Raw APDU exchange (command bytes in, response data + SW1 SW2 out). */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /** Ends the session; idempotent. */
  close(): Promise<void>;
}
