import { TERMINAL_ID_DIGITS } from '../core/index.js';
import { luhnValid } from '../uicc/index.js';

/** A flag of an operator command that cannot be right: said before anything is written. */
export class OperatorInputError extends Error {
  override readonly name = 'OperatorInputError';
}

/**
 * Mobile country codes that exist (ITU-T E.212 §A: 2xx–7xx geographic
 * areas, 9xx shared codes such as 901 international) and 001, 999 the
 * test networks SIM makers personalise test cards with.
 */
function plausibleMcc(mcc: string): boolean {
  return /^[2-7]\d\d$/.test(mcc) || /^90\d$/.test(mcc) || mcc === '001' || mcc === '999';
}

/** An IMSI as a SIM gives it (TS 23.003 §2.2): at most 15 digits, MCC + MNC + MSIN, 6 at least. */
export function checkImsi(imsi: string): string {
  if (!/^\d{6,15}$/.test(imsi))
    throw new OperatorInputError(`--subscriber ${imsi}: an IMSI is 6 to 15 digits`);
  const mcc = imsi.slice(0, 3);
  if (!plausibleMcc(mcc)) {
    throw new OperatorInputError(
      `--subscriber ${imsi}: ${mcc} is no mobile country code (E.212: 2xx–7xx, 90x, or 001/999 for test SIMs)`,
    );
  }
  return imsi;
}

/** An ICCID (ITU-T E.118): 18 to 20 digits ending in a Luhn check digit. */
export function checkIccid(iccid: string): string {
  if (!/^\d{18,20}$/.test(iccid))
    throw new OperatorInputError(`--iccid ${iccid}: an ICCID is 18 to 20 digits`);
  if (!luhnValid(iccid))
    throw new OperatorInputError(`--iccid ${iccid}: its last digit is not the Luhn check digit`);
  return iccid;
}

/** A terminal ID as a terminal shows it (core/protocol/terminal-identity.ts): 18 digits. */
export function checkTerminalId(id: string): string {
  const digits = id.replace(/[\s-]/g, '');
  if (!new RegExp(`^\\d{${TERMINAL_ID_DIGITS}}$`).test(digits)) {
    throw new OperatorInputError(
      `--terminal ${id}: a terminal ID is ${TERMINAL_ID_DIGITS} digits, as \`simsync terminal status\` shows it`,
    );
  }
  return digits;
}
