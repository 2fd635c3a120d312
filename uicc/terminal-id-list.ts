import { type CardFilePath, HalError, isHalError, type SimCard } from '../hal/index.js';
import { toHalError } from './card-errors.js';
import { FID } from './file-ids.js';
import { SW } from './status-words.js';
import { adnTerminalIdCodec } from './terminal-id-adn.js';
import { planIdListWrite, readIdList, type TerminalIdCodec } from './terminal-id-codec.js';
import { proprietaryTerminalIdCodec } from './terminal-id-file.js';

/** Where a card keeps the FIG. 11-A terminal-ID list. */
export type TerminalIdStorage = 'proprietary-file' | 'adn';

/** The part of a SimCard the list needs: record file access. */
export type CardRecords = Pick<SimCard, 'readRecords' | 'updateRecord'>;

interface StorageChoice {
  readonly kind: TerminalIdStorage;
  readonly path: CardFilePath;
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

/** SELECT found no such file: 6A82 (TS 102 221 §10.2) or 9404 (TS 51.011 §9.4). */
function notFound(e: unknown): boolean {
  return isHalError(e, 'card-error') && (e.sw === SW.FILE_NOT_FOUND || e.sw === SW.GSM_FILE_NOT_FOUND);
}

/**
 * The storage this card uses and its records: simsync's own EF 7FDE/6F01
 * when the card has it, else EF_ADN (see terminal-id-adn.ts).
 */
async function locate(card: CardRecords): Promise<{ choice: StorageChoice; records: Uint8Array[] }> {
  try {
    return { choice: PROPRIETARY, records: await card.readRecords(PROPRIETARY.path) };
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  return { choice: ADN, records: await card.readRecords(ADN.path) };
}

/** Which storage holds the list on this card. Needs no PIN: a file that asks for PIN1 exists. */
export async function terminalIdStorage(card: CardRecords): Promise<TerminalIdStorage> {
  try {
    await card.readRecords(PROPRIETARY.path);
  } catch (e) {
    if (notFound(e)) return 'adn';
    if (!isHalError(e, 'pin-required')) throw e;
  }
  return 'proprietary-file';
}

/**
 * FIG. 11-A/B: the IDs of the terminals associated with this SIM, as stored
 * on the card, in record order. Rejects 'pin-required' before PIN1 (both
 * storages need it: FIG. 11-B trusts this list), and whatever the card's
 * file access rejects with.
 */
export async function readTerminalIds(card: CardRecords): Promise<string[]> {
  const { choice, records } = await locate(card);
  return readIdList(records, choice.codec);
}

/**
 * Replaces the list on the card. Reads the EF first and plans every record
 * update before the first one: an ID this storage cannot hold rejects
 * 'not-supported', a list longer than the free and own records 'no-space',
 * both changing nothing. New records are written before old ones are
 * emptied, so a write torn by card removal leaves extra IDs, never missing
 * ones; readers must tolerate that.
 */
export async function writeTerminalIds(card: CardRecords, ids: readonly string[]): Promise<void> {
  const { choice, records } = await locate(card);
  const plan = planOrThrow(records, ids, choice);
  for (const w of plan) await card.updateRecord(choice.path, w.record, w.data);
}

function planOrThrow(records: Uint8Array[], ids: readonly string[], choice: StorageChoice) {
  let plan: ReturnType<typeof planIdListWrite>;
  try {
    plan = planIdListWrite(records, ids, choice.codec, records[0]?.length ?? 0);
  } catch (e) {
    throw toHalError(e);
  }
  if (plan === undefined) {
    throw new HalError(
      'no-space',
      `${ids.length} terminal IDs do not fit in the free records of ${choice.kind}`,
    );
  }
  return plan;
}
