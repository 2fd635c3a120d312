import type { AkaResult } from '../hal/index.js';
import { AUTS_BYTES } from './aka/sqn.js';
import { type CardChannel, errorForSw } from './card-channel.js';
import { UiccError } from './errors.js';
import { FID } from './file-ids.js';
import type { ResponseApdu } from './response.js';
import { simCommands } from './sim-commands.js';
import { SW } from './status-words.js';
import { usimCommands } from './usim-commands.js';

/**
 * AUTHENTICATE (TS 31.102 §7.1.2) and RUN GSM ALGORITHM (TS 51.011
 * §9.2.16): the commands, and the answers read strictly. An answer that
 * does not have the shape of §7.1.2.1 is 'bad-response'; nothing on the
 * card changed because of how we read it.
 */

/** GSM answers: SRES 4 bytes, Kc 8 (TS 31.102 §7.1.2.1, TS 51.011 §9.2.16). */
export interface GsmAuthResult {
  sres: Uint8Array;
  kc: Uint8Array;
}

const RAND_BYTES = 16;
const AUTN_BYTES = 16;
const TAG_SUCCESS = 0xdb;
const TAG_SYNC_FAILURE = 0xdc;

function needLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length)
    throw new UiccError('bad-argument', `${name} is ${length} bytes, not ${bytes.length}`);
}

/** Reads length-value fields one after another, throwing 'bad-response' past the end. */
class LvReader {
  #at = 0;
  constructor(readonly data: Uint8Array) {}

  get done(): boolean {
    return this.#at === this.data.length;
  }

  byte(): number {
    const b = this.data[this.#at];
    if (b === undefined) throw truncated();
    this.#at++;
    return b;
  }

  /** A length byte that must lie in `min..max`, then that many bytes. */
  lv(what: string, min: number, max: number): Uint8Array {
    const length = this.byte();
    if (length < min || length > max)
      throw new UiccError('bad-response', `AUTHENTICATE: ${what} of ${length} bytes`);
    if (this.#at + length > this.data.length) throw truncated();
    const value = this.data.slice(this.#at, this.#at + length);
    this.#at += length;
    return value;
  }
}

const truncated = () => new UiccError('bad-response', 'AUTHENTICATE: answer cut short');

/**
 * The 3G-context answer (TS 31.102 §7.1.2.1): `DB L RES L CK L IK [L Kc]`
 * with RES 4–16 bytes, CK and IK 16, Kc 8; `DC 0E AUTS`; or SW 9862
 * (incorrect MAC). Any other SW is the error errorForSw gives it (6982 →
 * 'pin-required').
 */
export function parseAuthenticate3g(res: ResponseApdu): AkaResult {
  if (res.sw === SW.AUTH_INCORRECT_MAC) return { status: 'mac-failure' };
  if (res.sw !== SW.OK) throw errorForSw(res.sw, 'AUTHENTICATE');
  const reader = new LvReader(res.data);
  const tag = reader.byte();
  if (tag === TAG_SYNC_FAILURE) {
    const auts = reader.lv('AUTS', AUTS_BYTES, AUTS_BYTES);
    if (!reader.done) throw new UiccError('bad-response', 'AUTHENTICATE: bytes after AUTS');
    return { status: 'sync-failure', auts };
  }
  if (tag !== TAG_SUCCESS)
    throw new UiccError('bad-response', `AUTHENTICATE: answer tag ${tag.toString(16)}`);
  const resValue = reader.lv('RES', 4, 16);
  const ck = reader.lv('CK', 16, 16);
  const ik = reader.lv('IK', 16, 16);
  if (reader.done) return { status: 'ok', res: resValue, ck, ik };
  const kc = reader.lv('Kc', 8, 8);
  if (!reader.done) throw new UiccError('bad-response', 'AUTHENTICATE: bytes after Kc');
  return { status: 'ok', res: resValue, ck, ik, kc };
}

/** The GSM-context answer of a USIM (TS 31.102 §7.1.2.1): `04 SRES 08 Kc`. */
export function parseAuthenticateGsm(res: ResponseApdu): GsmAuthResult {
  if (res.sw !== SW.OK) throw errorForSw(res.sw, 'AUTHENTICATE (GSM context)');
  const reader = new LvReader(res.data);
  const sres = reader.lv('SRES', 4, 4);
  const kc = reader.lv('Kc', 8, 8);
  if (!reader.done) throw new UiccError('bad-response', 'AUTHENTICATE (GSM context): bytes after Kc');
  return { sres, kc };
}

/** RUN GSM ALGORITHM's answer (TS 51.011 §9.2.16): SRES (4) ‖ Kc (8), after GET RESPONSE. */
export function parseRunGsmAlgorithm(res: ResponseApdu): GsmAuthResult {
  if (res.sw !== SW.OK) throw errorForSw(res.sw, 'RUN GSM ALGORITHM');
  if (res.data.length !== 12) {
    throw new UiccError('bad-response', `RUN GSM ALGORITHM: ${res.data.length} bytes, expected 12`);
  }
  return { sres: res.data.slice(0, 4), kc: res.data.slice(4, 12) };
}

/** AUTHENTICATE in 3G context on the USIM ADF. A 2G SIM has no USIM AKA: 'bad-argument', nothing sent. */
export async function authenticate(
  channel: CardChannel,
  rand: Uint8Array,
  autn: Uint8Array,
): Promise<AkaResult> {
  needLength('RAND', rand, RAND_BYTES);
  needLength('AUTN', autn, AUTN_BYTES);
  if (channel.application === 'sim')
    throw new UiccError('bad-argument', 'a 2G SIM has no USIM AKA (AUTHENTICATE)');
  await channel.select(['adf']);
  return parseAuthenticate3g(await channel.run(usimCommands.authenticate3g(rand.slice(), autn.slice())));
}

/** RUN GSM ALGORITHM under DF_GSM (2G), or AUTHENTICATE in GSM context on the USIM ADF (3G). */
export async function runGsmAlgorithm(channel: CardChannel, rand: Uint8Array): Promise<GsmAuthResult> {
  needLength('RAND', rand, RAND_BYTES);
  if (channel.application === 'sim') {
    await channel.select([FID.MF, FID.DF_GSM]);
    return parseRunGsmAlgorithm(await channel.run(simCommands.runGsmAlgorithm(rand.slice())));
  }
  await channel.select(['adf']);
  return parseAuthenticateGsm(await channel.run(usimCommands.authenticateGsm(rand.slice())));
}
