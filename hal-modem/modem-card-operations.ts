import { HalError, type PinResult, type PinStatus } from '../hal/index.js';
import {
  type DeviceCardOperations,
  decodeIccid,
  fromHex,
  isValidPin,
  isValidPuk,
  luhnValid,
  type UiccSession,
} from '../uicc/index.js';
import type { AtEngine } from './at-engine.js';
import { AtError } from './at-errors.js';
import { type Dialect, fields, lineWith, readCounters, readPinLock } from './dialect.js';
import { readCpin, type SimWaitOptions, whileSimBusy } from './sim-ready.js';

/** What a session needs from its reader. */
export interface CardLink {
  at: AtEngine;
  dialect: Dialect;
  /** How long SIM commands are retried while the modem answers SIM busy (CME 14). */
  simWait: SimWaitOptions;
  /** False once the card this session was opened on has left (or the modem restarted). */
  alive(): boolean;
}

export { readCpin };

/** ICCID digits from a vendor line ("89882110…0F", maybe quoted), Luhn-checked. */
function iccidFromText(text: string): string | undefined {
  const digits = text
    .replace(/"/g, '')
    .trim()
    .replace(/[Ff]+$/, '');
  return /^\d{18,20}$/.test(digits) && luhnValid(digits) ? digits : undefined;
}

/**
 * The card operations a modem answers itself: PIN, ICCID and IMSI through
 * its own commands (+CPIN, +CCID and kin, +CIMI). The reader hands them to
 * uicc's UiccSimCard, which sends everything else as APDUs through AT+CSIM
 * with the same uicc/ code as every other reader, and guards every call.
 */
export class ModemCardOperations implements DeviceCardOperations {
  readonly #link: CardLink;
  readonly #uicc: UiccSession | undefined;

  constructor(link: CardLink, uicc: UiccSession | undefined) {
    this.#link = link;
    this.#uicc = uicc;
  }

  async iccid(): Promise<string> {
    const { at, dialect } = this.#link;
    for (const { command, prefix } of dialect.iccid) {
      try {
        const { lines } = await this.#sim(() => at.command(command, { prefix }));
        const line = lineWith(lines, prefix) ?? lines.find((l) => /^\d{18,20}F*$/i.test(l));
        const iccid = line === undefined ? undefined : iccidFromText(line.replace(prefix, ''));
        if (iccid !== undefined) return iccid;
      } catch (e) {
        if (!(e instanceof AtError) || e.kind !== 'not-supported') throw e;
      }
    }
    // TS 27.007 §8.18: READ BINARY of EF_ICCID (2FE2 = 12258), 10 bytes.
    const { lines } = await this.#sim(() => at.command('AT+CRSM=176,12258,0,0,10', { prefix: '+CRSM:' }));
    const [sw1, sw2, data = ''] = fields(lineWith(lines, '+CRSM:') ?? '+CRSM:', '+CRSM:');
    if (sw1 !== '144' || sw2 !== '0') {
      throw new HalError('card-error', `AT+CRSM READ BINARY EF_ICCID: SW ${sw1} ${sw2}`);
    }
    return decodeIccid(fromHex(data));
  }

  async imsi(): Promise<string> {
    const { lines } = await this.#sim(() => this.#link.at.command('AT+CIMI'));
    const imsi = lines.map((l) => l.replace(/^\+CIMI:\s*/, '')).find((l) => /^\d{6,15}$/.test(l));
    if (imsi === undefined) throw new HalError('card-error', 'AT+CIMI: no IMSI in the answer');
    return imsi;
  }

  /**
   * +CPIN for "verified", AT+CLCK="SC",2 for "enabled" (else the card's own
   * PS_DO / CHV1 status through AT+CSIM), the vendor counters (+QPINC,
   * +SPIC, +CPINR) for the PIN1 and PUK tries, else the card's.
   */
  async pinStatus(): Promise<PinStatus> {
    const state = await this.#cpin();
    const lock = await this.#sim(() => readPinLock(this.#link.at));
    const counters = await this.#sim(() => readCounters(this.#link.at, this.#link.dialect)).catch((e) => {
      if (e instanceof AtError && e.kind === 'not-supported' && this.#uicc !== undefined) return undefined;
      throw e;
    });
    const card = lock === undefined || counters === undefined ? await this.#uicc?.pinStatus() : undefined;
    const enabled = lock ?? card?.enabled ?? true;
    const pin = state === 'SIM PUK' ? 0 : (counters?.pin ?? card?.retriesLeft ?? 0);
    const puk = counters?.puk ?? card?.pukRetriesLeft;
    return {
      enabled,
      verified: state === 'READY',
      retriesLeft: pin,
      blocked: pin === 0,
      ...(puk === undefined ? {} : { pukRetriesLeft: puk }),
    };
  }

  async verifyPin(pin: string): Promise<PinResult> {
    if (!isValidPin(pin)) throw new HalError('not-supported', 'PIN1 must be 4–8 decimal digits');
    const state = await this.#cpin();
    if (state === 'SIM PUK') return { status: 'blocked' };
    if (state === 'READY') {
      // TS 27.007 §7.4: a SIM with the "SC" lock off needs no PIN, and a VERIFY would be refused.
      if ((await this.#sim(() => readPinLock(this.#link.at))) === false) return { status: 'disabled' };
      // The modem accepts +CPIN only while it asks for the PIN; afterwards the card still judges, via VERIFY.
      return this.#uicc ? this.#uicc.verifyPin(pin) : { status: 'ok' };
    }
    return this.#enter(`AT+CPIN="${pin}"`, 'pin');
  }

  async unblockPin(puk: string, newPin: string): Promise<PinResult> {
    if (!isValidPuk(puk) || !isValidPin(newPin)) {
      throw new HalError('not-supported', 'the PUK is 8 digits and PIN1 4–8 digits');
    }
    return this.#enter(`AT+CPIN="${puk}","${newPin}"`, 'puk');
  }

  /** AT+CPIN with a PIN or PUK: OK, or +CME ERROR 16 / 12 / 13 turned into a result from the counters. */
  async #enter(command: string, which: 'pin' | 'puk'): Promise<PinResult> {
    try {
      await this.#sim(() => this.#link.at.command(command));
      return { status: 'ok' };
    } catch (e) {
      if (!(e instanceof AtError)) throw e;
      if (e.kind === 'pin-blocked' || e.cme === 13) return { status: 'blocked' };
      if (e.kind !== 'pin-wrong') throw e;
    }
    const left = (await this.#sim(() => readCounters(this.#link.at, this.#link.dialect)))[which];
    return left === 0 ? { status: 'blocked' } : { status: 'wrong', retriesLeft: left };
  }

  #cpin(): Promise<string> {
    return this.#sim(() => readCpin(this.#link.at));
  }

  /** A SIM command, sent again while the modem answers SIM busy (CME 14), within the reader's bound. */
  #sim<T>(op: () => Promise<T>): Promise<T> {
    return whileSimBusy(op, this.#link.simWait, () => this.#link.alive());
  }
}
