import type { CardChannel, FilePath } from './card-channel.js';
import { isUiccError, UiccError } from './errors.js';
import { FID } from './file-ids.js';
import { adnTerminalIdCodec } from './terminal-id-adn.js';
import { planIdListWrite, readIdList, type TerminalIdCodec } from './terminal-id-codec.js';
import { proprietaryTerminalIdCodec } from './terminal-id-file.js';

/** Where a card keeps the FIG. 11-A terminal-ID list. */
export type TerminalIdStorage = 'proprietary-file' | 'adn';

interface StorageChoice {
  readonly kind: TerminalIdStorage;
  readonly path: FilePath;
  readonly codec: TerminalIdCodec;
}

const PROPRIETARY: StorageChoice = {
  kind: 'proprietary-file',
  path: [FID.MF, FID.DF_SIMSYNC, FID.EF_TERMINAL_IDS],
  codec: proprietaryTerminalIdCodec,
};
const ADN: StorageChoice = {
  kind: 'adn',
  path: [FID.MF, FID.DF_TELECOM, FID.EF_ADN],
  codec: adnTerminalIdCodec,
};

/**
 * The terminal-ID list on one card: simsync's own EF 7FDE/6F01 when the card
 * has it, else our marked records in EF_ADN (see terminal-id-adn.ts).
 * The choice is probed once (SELECT needs no PIN) and kept for the session.
 */
export class TerminalIdStore {
  readonly #channel: CardChannel;
  #choice: StorageChoice | undefined;

  constructor(channel: CardChannel) {
    this.#channel = channel;
  }

  async storage(): Promise<TerminalIdStorage> {
    return (await this.#probe()).kind;
  }

  async #probe(): Promise<StorageChoice> {
    if (this.#choice !== undefined) return this.#choice;
    try {
      await this.#channel.select(PROPRIETARY.path);
      this.#choice = PROPRIETARY;
    } catch (e) {
      if (!isUiccError(e, 'not-found')) throw e;
      this.#choice = ADN;
    }
    return this.#choice;
  }

  async read(): Promise<string[]> {
    const choice = await this.#probe();
    const { records } = await this.#channel.readRecords(choice.path);
    return readIdList(records, choice.codec);
  }

  /**
   * Replaces the list. Reads the EF first, plans every record update, and
   * only then writes: 'bad-argument' (an ID this storage cannot hold) and
   * 'no-space' are thrown before the first UPDATE RECORD.
   */
  async write(ids: readonly string[]): Promise<void> {
    const choice = await this.#probe();
    const { info, records } = await this.#channel.readRecords(choice.path);
    const plan = planIdListWrite(records, ids, choice.codec, info.recordLength!);
    if (plan === undefined) {
      throw new UiccError(
        'no-space',
        `${ids.length} terminal IDs do not fit in the free records of ${choice.kind}`,
      );
    }
    for (const w of plan) await this.#channel.updateRecord(w.record, w.data);
  }
}
