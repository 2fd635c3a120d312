import type { AkaResult, CardFilePath, PinResult, PinStatus } from '../hal/index.js';
import { authenticate, type GsmAuthResult, runGsmAlgorithm } from './auth-operations.js';
import { type Application, CardChannel } from './card-channel.js';
import { decodeApplicationTemplate, isUsimAid } from './ef-dir.js';
import { isUiccError, UiccError } from './errors.js';
import type { ApduTransport } from './exchange.js';
import { FID } from './file-ids.js';
import { swHex } from './hex.js';
import { decodeIccid } from './iccid.js';
import { decodeImsi } from './imsi.js';
import { pinStatus, unblockPin, verifyPin } from './pin-operations.js';
import { simCommands } from './sim-commands.js';
import { SW } from './status-words.js';

/** `path` checked to be file identifiers from the MF (TS 102 221 §8.4: 3F00 first). */
function fromMf(path: CardFilePath): CardFilePath {
  const fid = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (path.length === 0 || path[0] !== FID.MF || !path.every(fid)) {
    throw new UiccError('bad-argument', 'a file path is file identifiers from the MF (3F00) down');
  }
  return path;
}

/** What probing for a USIM found: its AID, or why a USIM that EF_DIR lists could not be selected. */
type UsimProbe = { aid: Uint8Array } | { aid: undefined; failure?: UiccError };

/**
 * The USIM AID from EF_DIR, if the card answers CLA 00 and lists a USIM
 * that SELECT by AID accepts (TS 102 221 §13.1, TS 31.101). Malformed
 * answers mean "not a USIM", not an error; transport failures propagate.
 * A USIM listed but unselectable is kept as `failure`, so a card that then
 * does not answer as a 2G SIM either is reported for that reason.
 */
async function findUsim(transport: ApduTransport): Promise<UsimProbe> {
  const probe = new CardChannel(transport, 'usim');
  let records: Uint8Array[];
  try {
    records = (await probe.readRecords([FID.MF, FID.EF_DIR])).records;
  } catch (e) {
    if (isUiccError(e, 'card-error', 'not-found', 'bad-response', 'pin-required')) return { aid: undefined };
    throw e;
  }
  let failure: UiccError | undefined;
  for (const record of records) {
    const app = decodeApplicationTemplate(record);
    if (app === undefined || !isUsimAid(app.aid)) continue;
    try {
      await new CardChannel(transport, 'usim', app.aid).select(['adf']);
      return { aid: app.aid };
    } catch (e) {
      if (!isUiccError(e, 'card-error', 'not-found', 'bad-response', 'pin-required')) throw e;
      failure ??= e;
    }
  }
  return failure === undefined ? { aid: undefined } : { aid: undefined, failure };
}

/**
 * One open session with a SIM or USIM: the card operations of hal/card-reader.ts
 * `SimCard` in the APDU layer's terms; UiccSimCard presents it as one.
 *
 * Commands are serialised: concurrent calls run one after another, since
 * each is a sequence of SELECTs and reads that must not interleave.
 * Errors are UiccError with the kinds of errors.ts; transport errors pass
 * through unchanged.
 */
export class UiccSession {
  readonly atr: Uint8Array;
  readonly application: Application;
  readonly #transport: ApduTransport;
  readonly #channel: CardChannel;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(transport: ApduTransport, atr: Uint8Array, channel: CardChannel) {
    this.#transport = transport;
    this.atr = atr.slice();
    this.application = channel.application;
    this.#channel = channel;
  }

  /**
   * Detects the card generation: USIM when EF_DIR lists a USIM AID and CLA 00
   * selects it; else a 2G SIM when CLA A0 selects the MF. Throws 'card-error'
   * when the card answers neither, or the error that kept a listed USIM from
   * being selected (e.g. 'bad-response' for an FCP that does not decode) when
   * the card has no 2G side to fall back on (a USIM-only card: CLA A0 → 6E00).
   */
  static async open(transport: ApduTransport, atr: Uint8Array): Promise<UiccSession> {
    const usim = await findUsim(transport);
    if (usim.aid !== undefined) {
      return new UiccSession(transport, atr, new CardChannel(transport, 'usim', usim.aid));
    }
    const sim = new CardChannel(transport, 'sim');
    const res = await sim.run(simCommands.select(FID.MF));
    if (res.sw === SW.OK) return new UiccSession(transport, atr, sim);
    if (usim.failure !== undefined) throw usim.failure;
    throw new UiccError('card-error', 'card answers neither as a USIM nor as a 2G SIM', { sw: res.sw });
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new UiccError('closed', 'the card session is closed');
      return op();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** EF_ICCID (readable without PIN), Luhn-checked. */
  iccid(): Promise<string> {
    return this.#serial(async () => decodeIccid(await this.#channel.readTransparent([FID.MF, FID.EF_ICCID])));
  }

  /** EF_IMSI of ADF_USIM (3G) or DF_GSM (2G). Rejects 'pin-required' before PIN1. */
  imsi(): Promise<string> {
    const path =
      this.application === 'usim' ? (['adf', FID.EF_IMSI] as const) : [FID.MF, FID.DF_GSM, FID.EF_IMSI];
    return this.#serial(async () => decodeImsi(await this.#channel.readTransparent(path)));
  }

  pinStatus(): Promise<PinStatus> {
    return this.#serial(() => pinStatus(this.#channel));
  }

  /** Presents PIN1. A refusal is a result; 'bad-argument' (not 4–8 digits) is thrown before any APDU. */
  verifyPin(pin: string): Promise<PinResult> {
    return this.#serial(() => verifyPin(this.#channel, pin));
  }

  /** UNBLOCK PIN with the 8-digit PUK, setting `newPin`; the result speaks of the PUK's tries. */
  unblockPin(puk: string, newPin: string): Promise<PinResult> {
    return this.#serial(() => unblockPin(this.#channel, puk, newPin));
  }

  /** Every record of the record EF at `path` (from the MF). 'bad-argument' for a path not from the MF. */
  readRecords(path: CardFilePath): Promise<Uint8Array[]> {
    return this.#serial(async () => (await this.#channel.readRecords(fromMf(path))).records);
  }

  /**
   * UPDATE RECORD `record` of the record EF at `path`, selected in the same
   * serialised step. 'bad-argument', before the UPDATE, for a path not from
   * the MF, a record number the EF does not have, or `data` that is not one
   * record long.
   */
  updateRecord(path: CardFilePath, record: number, data: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      const info = await this.#channel.select(fromMf(path));
      const { recordLength, recordCount } = info;
      if (info.type !== 'ef' || recordLength === undefined || recordCount === undefined) {
        throw new UiccError('bad-argument', `file ${swHex(info.fid)} is not a record EF`);
      }
      if (!Number.isInteger(record) || record < 1 || record > recordCount) {
        throw new UiccError('bad-argument', `record ${record} is not one of 1..${recordCount}`);
      }
      if (data.length !== recordLength) {
        throw new UiccError('bad-argument', `a record is ${recordLength} bytes, not ${data.length}`);
      }
      await this.#channel.updateRecord(record, data.slice());
    });
  }

  /**
   * AUTHENTICATE in 3G context on the USIM ADF (TS 31.102 §7.1.2.1). 'bad-argument'
   * before anything is sent for a RAND or AUTN that is not 16 bytes, or on a 2G SIM;
   * 'pin-required' (6982) before PIN1; 'bad-response' for an answer that does not decode.
   */
  authenticate(rand: Uint8Array, autn: Uint8Array): Promise<AkaResult> {
    return this.#serial(() => authenticate(this.#channel, rand, autn));
  }

  /** GSM authentication: RUN GSM ALGORITHM on a 2G SIM, AUTHENTICATE in GSM context on a USIM. */
  runGsmAlgorithm(rand: Uint8Array): Promise<GsmAuthResult> {
    return this.#serial(() => runGsmAlgorithm(this.#channel, rand));
  }

  /** Raw APDU exchange, no GET RESPONSE handling. The session re-selects its files per call, so this is safe. */
  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    return this.#serial(() => this.#transport.transmit(apdu));
  }

  /** Ends the session; idempotent. Later calls reject 'closed'. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}
