import type { HalErrorKind, Unsubscribe } from './errors.js';

/** The card's own kinds: card-*, pin-*, an empty slot, no room left in an EF. */
type CardOnlyKind = `card-${string}` | `pin-${string}` | 'no-card' | 'no-space';

/** What a CardReader and its SimCard sessions reject with. */
export type CardErrorKind = Extract<
  HalErrorKind,
  CardOnlyKind | 'busy' | 'timeout' | 'not-supported' | 'device-unavailable' | 'other'
>;

/**
 * A file path from the MF down, as file identifiers: `[0x3F00, 0x7F10,
 * 0x6F3A]` is EF_ADN under DF_TELECOM (TS 51.011 §10.7, TS 102 221 §8.4).
 */
export type CardFilePath = readonly number[];

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
  /**
   * Powers the card and starts a session. Rejects 'no-card', 'busy',
   * 'card-blocked' (answers as neither SIM nor USIM), 'card-error' (a USIM
   * whose answers this terminal cannot decode), 'timeout'. A modem reader
   * announces a card only once its SIM has started, so `open()` after
   * 'inserted' does not meet a SIM still busy.
   */
  open(): Promise<SimCard>;
}

/**
 * Result of presenting PIN1 (or, for `unblockPin`, the PUK) to the card. The
 * card decides; software never compares PINs. 'disabled': PIN1 is disabled
 * on the card, so nothing was presented and no try was spent (the card
 * needs no PIN; see `PinStatus.enabled`).
 */
export type PinResult =
  | { status: 'ok' }
  | { status: 'wrong'; retriesLeft: number }
  | { status: 'blocked' }
  | { status: 'disabled' };

/**
 * PIN1 as the card (or the modem in front of it) reports it; reading it
 * costs no try. 2G: TS 51.011 §9.2.1 (byte 14 b8, bytes 19–20). 3G: the PIN
 * status template of the ADF/MF (TS 102 221 §11.1.1.4.10), VERIFY and
 * UNBLOCK PIN without data (§11.1.9, §11.1.13). Modem: AT+CPIN?,
 * AT+CLCK="SC",2 and the vendor counters (+QPINC, +SPIC, +CPINR).
 */
export interface PinStatus {
  /** PIN1 enabled. False: the card needs no PIN, and `verifyPin` answers 'disabled'. */
  enabled: boolean;
  /** PIN1 verified in this card session, or not needed (`enabled` false). */
  verified: boolean;
  /** Tries left for PIN1 (0 = blocked). */
  retriesLeft: number;
  /** PIN1 blocked (no tries left): only `unblockPin` with the PUK helps. */
  blocked: boolean;
  /** PUK tries left, when the card or modem tells (0 = the SIM is blocked for good). */
  pukRetriesLeft?: number;
}

/**
 * What a USIM answers to AUTHENTICATE in 3G context (TS 31.102 §7.1.2.1,
 * TS 33.102 §6.3.3). 'ok': AUTN was genuine and fresh; RES goes to the
 * network, CK/IK are the session keys, Kc (the GSM key, c3 of TS 33.102
 * §6.8.1.2) when the card offers GSM access. 'sync-failure': the MAC was
 * right but SQN out of range; AUTS lets the network resynchronise (§6.3.5).
 * 'mac-failure': AUTN was not made with this card's key (SW 9862). A
 * refusal is a result, not a rejection: the card's counters are as before.
 */
export type AkaResult =
  | { status: 'ok'; res: Uint8Array; ck: Uint8Array; ik: Uint8Array; kc?: Uint8Array }
  | { status: 'sync-failure'; auts: Uint8Array }
  | { status: 'mac-failure' };

/**
 * An open card session (the SIM card 12 of the patent): card operations
 * only. What the application keeps in the card's files (the FIG. 11-A
 * terminal-ID list) is built above the HAL on `readRecords`/`updateRecord`
 * (uicc/terminal-id-list.ts).
 *
 * Promises:
 * - Every method settles within the reader's command timeout and rejects
 *   only with a HalError of a CardErrorKind: a card removed before or during
 *   a command rejects 'card-removed', never hangs, and so does every later
 *   call.
 * - Each call selects its file from the MF and concurrent calls do not
 *   interleave their commands, so no call sees what another left selected.
 * - PIN tries are counted by the card: a wrong PIN costs a try even if the
 *   terminal loses power right after.
 * - Bad arguments reject 'not-supported' and change nothing: a PIN that is
 *   not 4–8 digits or a path not from the MF before any command is sent, a
 *   record number or length the EF does not have before anything is written;
 *   a RAND or AUTN that is not 16 bytes before any command is sent.
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
  /** PIN1 state (see PinStatus); costs no try. */
  pinStatus(): Promise<PinStatus>;
  /**
   * Presents PIN1 (4–8 digits). Rejects only on transport errors; a refusal
   * is a result. Resolves 'disabled' without presenting anything when PIN1
   * is disabled on the card.
   */
  verifyPin(pin: string): Promise<PinResult>;
  /**
   * UNBLOCK PIN with the PUK (8 digits), setting a new PIN1; the result
   * speaks of the PUK's tries. Never retried by the HAL: each wrong PUK
   * costs one of its (usually 10) tries.
   */
  unblockPin(puk: string, newPin: string): Promise<PinResult>;
  /**
   * Every record of the record EF at `path` (READ RECORD, absolute mode), in
   * record order. Rejects 'pin-required' when the file's read condition is
   * not met, 'card-error' with `sw` 6A82 (3G) or 9404 (2G) when there is no
   * such file, 'not-supported' when the device passes no APDUs (a modem
   * without AT+CSIM).
   */
  readRecords(path: CardFilePath): Promise<Uint8Array[]>;
  /**
   * UPDATE RECORD `record` (1-based, absolute) of the record EF at `path`
   * with `data`, which must be exactly one record long ('not-supported'
   * otherwise, before anything is written). A card updates a record as a
   * whole: removal mid-command leaves it as before or as written.
   */
  updateRecord(path: CardFilePath, record: number, data: Uint8Array): Promise<void>;
  /**
   * USIM AUTHENTICATE, 3G context (TS 31.102 §7.1.2.1, TS 33.102 §6.3): the
   * card checks AUTN (16 bytes) against its key K and SQN for RAND (16
   * bytes). Rejects 'pin-required' until PIN1 is verified, 'not-supported' on
   * a 2G SIM (no USIM AKA) or a device that passes no APDUs, 'card-error'
   * for an answer that does not decode.
   */
  authenticate(rand: Uint8Array, autn: Uint8Array): Promise<AkaResult>;
  /**
   * GSM authentication (2G RUN GSM ALGORITHM, TS 51.011 §9.2.16, or a USIM
   * in GSM context, TS 31.102 §7.1.2.1): SRES (4 bytes) and Kc (8) for RAND
   * (16). Rejects like `authenticate`, except that a 2G SIM answers.
   */
  runGsmAlgorithm(rand: Uint8Array): Promise<{ sres: Uint8Array; kc: Uint8Array }>;
  /** Raw APDU exchange (command bytes in, response data + SW1 SW2 out). */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /**
   * Ends the session; idempotent. Resolves within the reader's close bound
   * (a few seconds at most) even when the card stopped answering: a command
   * still stuck in the driver is abandoned, not waited for, and calls in
   * flight settle (rejecting) no later than their command timeout.
   */
  close(): Promise<void>;
}
