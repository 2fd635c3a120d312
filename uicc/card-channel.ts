import type { CommandApdu } from './apdu.js';
import { UiccError } from './errors.js';
import { type ApduTransport, exchange } from './exchange.js';
import { decodeFcp } from './fcp.js';
import type { FileInfo } from './file-info.js';
import { decodeGsmResponse } from './gsm-response.js';
import { concatBytes, swHex } from './hex.js';
import type { ResponseApdu } from './response.js';
import { simCommands } from './sim-commands.js';
import { describeSw, SW } from './status-words.js';
import { usimCommands } from './usim-commands.js';

/** A file path from the MF; 'adf' stands for the USIM ADF, selected by its AID. */
export type FilePath = readonly (number | 'adf')[];

export type Application = 'sim' | 'usim';

/** Maps a refusing SW to the error kind callers switch on. */
export function errorForSw(sw: number, what: string): UiccError {
  const text = `${what}: SW ${swHex(sw)} (${describeSw(sw)})`;
  switch (sw) {
    case SW.SECURITY_NOT_SATISFIED:
    case SW.GSM_ACCESS_DENIED:
      return new UiccError('pin-required', text, { sw });
    case SW.AUTH_METHOD_BLOCKED:
    case SW.GSM_CHV_BLOCKED:
      return new UiccError('pin-blocked', text, { sw, retriesLeft: 0 });
    case SW.FILE_NOT_FOUND:
    case SW.GSM_FILE_NOT_FOUND:
      return new UiccError('not-found', text, { sw });
    default:
      return new UiccError('card-error', text, { sw });
  }
}

/**
 * File and record access in one command set, chosen once per session:
 * CLA A0 with GSM responses (TS 51.011) or CLA 00 with FCP templates
 * (TS 102 221 / TS 31.101). Every operation selects its file from the MF,
 * so nothing depends on what a previous command (or a raw `transmit`) left selected.
 */
export class CardChannel {
  readonly #transport: ApduTransport;
  readonly application: Application;
  readonly #aid: Uint8Array | undefined;

  constructor(transport: ApduTransport, application: Application, aid?: Uint8Array) {
    this.#transport = transport;
    this.application = application;
    this.#aid = aid;
  }

  run(cmd: CommandApdu): Promise<ResponseApdu> {
    return exchange(this.#transport, cmd);
  }

  /** Selects each step of `path`; returns what the card says about the last. */
  async select(path: FilePath): Promise<FileInfo> {
    let info: FileInfo | undefined;
    for (const [i, step] of path.entries()) {
      const last = i === path.length - 1;
      const res = await this.run(this.#selectCommand(step, last));
      if (res.sw !== SW.OK) throw errorForSw(res.sw, `SELECT ${step === 'adf' ? 'ADF' : swHex(step)}`);
      if (!last) continue;
      info = this.application === 'sim' ? decodeGsmResponse(res.data) : decodeFcp(res.data);
    }
    if (info === undefined) throw new UiccError('bad-argument', 'empty file path');
    return info;
  }

  #selectCommand(step: number | 'adf', withResponse: boolean): CommandApdu {
    if (this.application === 'sim') {
      if (step === 'adf') throw new UiccError('bad-argument', 'a 2G SIM has no ADF');
      return simCommands.select(step);
    }
    if (step === 'adf') {
      if (this.#aid === undefined) throw new UiccError('not-found', 'no USIM AID known for this card');
      return usimCommands.selectAid(this.#aid);
    }
    // Intermediate DFs need no FCP (P2 = 0C), which saves a GET RESPONSE on T=0 cards.
    return usimCommands.select(step, withResponse);
  }

  #commands() {
    return this.application === 'sim' ? simCommands : usimCommands;
  }

  /** Selects a transparent EF and reads its whole body in chunks of at most 256 bytes. */
  async readTransparent(path: FilePath): Promise<Uint8Array> {
    const info = await this.select(path);
    if (info.type !== 'ef' || info.structure !== 'transparent') {
      throw new UiccError('bad-response', `file ${swHex(info.fid)} is not a transparent EF`);
    }
    const parts: Uint8Array[] = [];
    for (let offset = 0; offset < info.size; ) {
      const n = Math.min(256, info.size - offset);
      const res = await this.run(this.#commands().readBinary(offset, n));
      if (res.sw !== SW.OK) throw errorForSw(res.sw, `READ BINARY ${swHex(info.fid)}`);
      if (res.data.length === 0) throw new UiccError('bad-response', 'READ BINARY returned no data');
      parts.push(res.data);
      offset += res.data.length;
    }
    return concatBytes(...parts);
  }

  /** Selects a record EF and reads every record (absolute mode); the EF stays selected. */
  async readRecords(path: FilePath): Promise<{ info: FileInfo; records: Uint8Array[] }> {
    const info = await this.select(path);
    const { recordLength, recordCount } = info;
    if (info.type !== 'ef' || recordLength === undefined || recordCount === undefined) {
      throw new UiccError('bad-response', `file ${swHex(info.fid)} is not a record EF`);
    }
    const records: Uint8Array[] = [];
    for (let n = 1; n <= recordCount; n++) {
      const res = await this.run(this.#commands().readRecord(n, recordLength));
      if (res.sw !== SW.OK) throw errorForSw(res.sw, `READ RECORD ${n} of ${swHex(info.fid)}`);
      if (res.data.length !== recordLength) {
        throw new UiccError(
          'bad-response',
          `record ${n} is ${res.data.length} bytes, expected ${recordLength}`,
        );
      }
      records.push(res.data);
    }
    return { info, records };
  }

  /** UPDATE RECORD (absolute) on the currently selected EF. */
  async updateRecord(record: number, data: Uint8Array): Promise<void> {
    const res = await this.run(this.#commands().updateRecord(record, data));
    if (res.sw !== SW.OK) throw errorForSw(res.sw, `UPDATE RECORD ${record}`);
  }
}
