import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { isUiccError, type VirtualCardMemory, VirtualUicc, type VirtualUiccProfile } from '../uicc/index.js';
import { CommandError } from './failure-text.js';

/** The file in the terminal's data directory that holds the `--card sim` cards' memories. */
export const VIRTUAL_SIM_FILE = 'virtual-sim.json';

/**
 * `<data>/virtual-sim.json`: the memory (uicc/virtual-memory.ts) of every
 * virtual SIM put in this terminal, one per ICCID. Several, because a
 * person may put another SIM in the reader (a replacement, or a stranger's,
 * FIG. 10-B) and then their own again, which must find it as they left it.
 */
interface VirtualSimFile {
  readonly version: 1;
  readonly cards: readonly unknown[];
}

/** The virtual SIM of `--card sim`, with its memory kept in `<data>/virtual-sim.json`. */
export interface VirtualSim {
  readonly card: VirtualUicc;
  readonly file: string;
  /** Saves the memory if it changed since the last save (or was never saved), and stops saving. */
  close(): void;
}

/**
 * The card a person keeps between two runs of `simsync terminal`: its
 * memory (records, PIN1/PUK and tries, SEQ_MS) is read from
 * `<data>/virtual-sim.json` when the file has this ICCID's card, written
 * back after every command that changed it (before the card answers, as a
 * real card writes its EEPROM) and once at close; the other cards in the
 * file stay as they are. Each write is a temporary file, fsync, rename: a
 * crash leaves the old file or the new one, never half. Mode 0600: it holds
 * PINs and PUKs. A damaged file, or this ICCID's card with another IMSI
 * than the profile's, is a CommandError naming the file to remove. A write
 * that fails is told through `warn` once and tried again at the next change
 * and at close.
 */
export function openVirtualSim(
  data: string,
  profile: VirtualUiccProfile,
  warn: (line: string) => void,
): VirtualSim {
  const file = path.join(data, VIRTUAL_SIM_FILE);
  // A profile the card cannot be personalised with fails as it does without a file.
  const fresh = new VirtualUicc(profile);
  const cards = existsSync(file) ? readCards(file) : [];
  const at = cards.findIndex((c) => (c as { iccid?: unknown }).iccid === profile.iccid);
  const card = at === -1 ? fresh : restore(file, profile, cards[at]);
  let saved = at === -1 ? -1 : card.generation;
  let warned = false;
  const save = () => {
    const generation = card.generation;
    const memory = card.memory();
    const contents: VirtualSimFile = {
      version: 1,
      cards: at === -1 ? [...cards, memory] : cards.map((c, i) => (i === at ? memory : c)),
    };
    try {
      writeAtomically(file, `${JSON.stringify(contents, null, 2)}\n`);
      saved = generation;
      warned = false;
    } catch (e) {
      if (!warned) warn(`the virtual SIM's memory could not be saved to ${file}: ${(e as Error).message}`);
      warned = true;
    }
  };
  const stop = card.onChange(save);
  return {
    card,
    file,
    close: () => {
      stop();
      if (card.generation !== saved) save();
    },
  };
}

const removeIt = (file: string) => `remove ${file} to start with fresh virtual SIMs`;

/** The cards of the file; each is checked in full only when it is put in (restore). */
function readCards(file: string): readonly unknown[] {
  let contents: unknown;
  try {
    contents = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CommandError(`${file} is not a virtual SIM file (${(e as Error).message}): ${removeIt(file)}`);
  }
  const { version, cards } = (contents ?? {}) as Partial<VirtualSimFile>;
  if (version !== 1 || !Array.isArray(cards) || !cards.every((c) => typeof c?.iccid === 'string')) {
    throw new CommandError(
      `${file} is not a virtual SIM file (version 1, cards with an ICCID): ${removeIt(file)}`,
    );
  }
  return cards;
}

function restore(file: string, profile: VirtualUiccProfile, memory: unknown): VirtualUicc {
  const { imsi } = memory as Partial<VirtualCardMemory>;
  if (imsi !== profile.imsi) {
    throw new CommandError(
      `${file} has the virtual SIM ${profile.iccid} with IMSI ${String(imsi)}, not ${profile.imsi} ` +
        `as --sim-imsi or the config say: ${removeIt(file)}`,
    );
  }
  try {
    // The card checks the memory in full (uicc/virtual-memory.ts) before it takes anything from it.
    return new VirtualUicc(profile, memory as VirtualCardMemory);
  } catch (e) {
    if (isUiccError(e)) throw new CommandError(`${file}: ${e.message}: ${removeIt(file)}`);
    throw e;
  }
}

/** Temporary file beside `file`, fsync, rename over it, fsync the directory (POSIX rename is atomic). */
function writeAtomically(file: string, text: string): void {
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    // An earlier temporary file keeps its mode through 'w': set it again.
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
