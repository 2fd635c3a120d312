import { Milenage } from './aka/milenage.js';
import { UsimSqnArray } from './aka/sqn.js';
import { type CommandApdu, parseApdu } from './apdu.js';
import { fromHex, toHex } from './hex.js';
import { encodePinBlock } from './pin-block.js';
import { SW } from './status-words.js';
import { authenticateOrRunGsm } from './virtual-auth-commands.js';
import { type CardState, type Generation, sw } from './virtual-card-state.js';
import * as files from './virtual-file-commands.js';
import { buildFileSystem } from './virtual-file-system.js';
import { checkMemory, memoryOf, type VirtualCardMemory } from './virtual-memory.js';
import { RetryCounter } from './virtual-pin.js';
import { unblock, verify } from './virtual-pin-commands.js';
import { resolveProfile, type VirtualUiccProfile } from './virtual-profile.js';

/**
 * ATR of the virtual card (ISO 7816-3 §8): direct convention, TA1 = 96
 * (Fi = 512, Di = 32), TD1 = 00 (T=0 only, so no TCK), and 7 historical
 * bytes in compact-TLV form: card service data E0 (selection by full DF
 * name and partial DF name), card capabilities FE 21 1B.
 */
export const VIRTUAL_ATR = fromHex('3B 97 96 00 80 31 E0 73 FE 21 1B');

/** PIN1 and PUK1 tries: the usual initial values of issued SIMs/USIMs. */
const PIN_TRIES = 3;
const PUK_TRIES = 10;

/** What tests may inspect of the card's EEPROM and session. */
export interface VirtualUiccSnapshot {
  readonly powered: boolean;
  readonly pinVerified: boolean;
  /** PIN1 enabled (false: the card needs no PIN). */
  readonly pinEnabled: boolean;
  readonly pinRetriesLeft: number;
  readonly pukRetriesLeft: number;
  /** The current PIN1 block (ASCII digits + FF). */
  readonly pinBlock: Uint8Array;
  readonly iccid: Uint8Array;
  readonly imsi: Uint8Array;
  readonly adnRecords: readonly Uint8Array[];
  readonly terminalIdRecords: readonly Uint8Array[] | undefined;
  /** The 32 SEQ_MS values of TS 33.102 Annex C.2 (undefined: no AKA algorithm), to persist or inspect. */
  readonly seqMs: readonly number[] | undefined;
}

/**
 * The instructions that may write EEPROM: UPDATE BINARY/RECORD, VERIFY and
 * UNBLOCK (retry counters, the PIN itself), AUTHENTICATE (SEQ_MS). Only
 * after these does the card look for a change of its memory.
 */
const EEPROM_WRITERS = new Set([0xd6, 0xdc, 0x20, 0x2c, 0x88]);

function generationOf(cla: number): Generation | undefined {
  if (cla === 0xa0) return 'sim';
  if (cla === 0x00 || cla === 0x80) return 'usim';
  return undefined;
}

/** TS 102 221 §10.1.1: of our 3G commands only STATUS is coded with CLA '80', and only with it. */
function insFitsClass(cla: number, ins: number): boolean {
  if (cla === 0x80) return ins === 0xf2;
  if (cla === 0x00) return ins !== 0xf2;
  return true;
}

/**
 * A card-side APDU processor: a SIM (CLA A0, TS 51.011) and USIM (CLA 00,
 * TS 31.101/31.102) in one, with the files of DESIGN.md and simsync's
 * terminal-ID file (FIG. 11-A; see virtual-file-system.ts and README.md).
 *
 * `process` never throws: every input, however malformed, gets a status
 * word. Files and PIN/PUK counters are EEPROM and survive power cycles;
 * the selection, PIN-verified flag and pending response are RAM and are
 * reset by `powerOn`. `memory()` hands the EEPROM out as JSON, and a card
 * built with it starts where that one stopped (a real SIM taken to the next
 * session); `generation` and `onChange` say when there is something new to save.
 */
export class VirtualUicc {
  readonly #state: CardState;
  /** SEQ_MS of a memory restored into a card without K: kept, so a K given again finds them. */
  readonly #dormantSeqMs: readonly number[] | undefined;
  readonly #listeners = new Set<() => void>();
  #generation = 0;
  #powered = false;

  /**
   * A fresh card personalised from `profile`, or with `memory` the card an
   * earlier `memory()` described: its records, PIN1/PUK values and tries,
   * PIN1 enabled and SEQ_MS replace the fresh ones (the profile's `pin`,
   * `puk`, `phonebook`, `pin1Enabled`, `seqMs` then only personalised it once).
   * The memory is checked in full, so it may come straight from a file.
   * Throws UiccError 'bad-argument' / 'bad-check-digit' for a profile that
   * cannot be personalised, and 'bad-argument' for a memory of another card
   * (ICCID, IMSI) or of another shape (record counts and sizes, counters).
   */
  constructor(profile: VirtualUiccProfile, memory?: VirtualCardMemory) {
    const p = resolveProfile(profile);
    const fs = buildFileSystem(p);
    const m =
      memory === undefined
        ? undefined
        : checkMemory(memory, { fs, iccid: p.iccid, imsi: p.imsi, pinTries: PIN_TRIES, pukTries: PUK_TRIES });
    // Checked in full before anything is written into the new card's files.
    for (const [ef, records] of m?.records ?? []) {
      if (ef.body.kind === 'records') ef.body.records.splice(0, records.length, ...records);
    }
    const seqMs = m === undefined ? p.seqMs : (m.seqMs ?? p.seqMs);
    this.#dormantSeqMs = p.aka === undefined ? m?.seqMs : undefined;
    this.#state = {
      profile: p,
      fs,
      pin: m
        ? new RetryCounter(m.pin1.block, PIN_TRIES, m.pin1.retriesLeft)
        : new RetryCounter(encodePinBlock(p.pin), PIN_TRIES),
      puk: m
        ? new RetryCounter(m.puk1.block, PUK_TRIES, m.puk1.retriesLeft)
        : new RetryCounter(encodePinBlock(p.puk, 8), PUK_TRIES),
      pin1Enabled: m ? m.pin1.enabled : p.pin1Enabled,
      aka:
        p.aka === undefined
          ? undefined
          : { milenage: new Milenage(p.aka.k, p.aka.opc), sqns: new UsimSqnArray(seqMs) },
      sel: { path: [fs.mf], ef: undefined },
      adfActive: false,
      pinVerified: false,
      pending: undefined,
    };
  }

  /** Cold reset: returns the ATR; the MF becomes the current DF and PIN1 is unverified. */
  powerOn(): Uint8Array {
    const s = this.#state;
    s.sel = { path: [s.fs.mf], ef: undefined };
    s.adfActive = false;
    s.pinVerified = false;
    s.pending = undefined;
    this.#powered = true;
    return VIRTUAL_ATR.slice();
  }

  powerOff(): void {
    this.#powered = false;
    this.#state.pinVerified = false;
    this.#state.pending = undefined;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /**
   * Processes one command APDU; returns response data + SW1 SW2. Never
   * throws. A command that changed the memory bumps `generation` and calls
   * the `onChange` listeners before its answer is returned, as a card
   * writes its EEPROM before it answers.
   */
  process(apdu: Uint8Array): Uint8Array {
    const writes = this.#powered && apdu.length >= 2 && EEPROM_WRITERS.has(apdu[1]!);
    const before = writes ? JSON.stringify(this.memory()) : undefined;
    let answer: Uint8Array;
    try {
      answer = this.#dispatch(apdu);
    } catch {
      // A handler bug must still look like a card answer, not crash the reader.
      answer = sw(SW.TECHNICAL_PROBLEM);
    }
    if (before !== undefined && JSON.stringify(this.memory()) !== before) this.#changed();
    return answer;
  }

  /** The card's EEPROM as plain JSON, to save and give to a later card (`new VirtualUicc(profile, memory)`). */
  memory(): VirtualCardMemory {
    const s = this.#state;
    return memoryOf(
      s.fs,
      s.profile,
      { block: toHex(s.pin.value()), retriesLeft: s.pin.left, enabled: s.pin1Enabled },
      { block: toHex(s.puk.value()), retriesLeft: s.puk.left },
      s.aka?.sqns.seqMs() ?? this.#dormantSeqMs,
    );
  }

  /** How many times the memory changed since this card was built: save when it differs from the last saved. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Calls `listener` after each command that changed the memory, before the
   * card answers it; returns the function that stops it. A listener must not
   * throw (the card ignores it if it does: `process` never throws).
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    this.#generation += 1;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // The card's answer does not depend on who watches it.
      }
    }
  }

  #dispatch(bytes: Uint8Array): Uint8Array {
    const s = this.#state;
    // An unpowered card answers nothing; the closest SW is "technical problem".
    if (!this.#powered) return sw(SW.TECHNICAL_PROBLEM);
    const pending = s.pending;
    s.pending = undefined;
    if (bytes.length < 4) return sw(SW.WRONG_LENGTH);
    const gen = generationOf(bytes[0]!);
    if (gen === undefined) return sw(SW.CLA_NOT_SUPPORTED);
    const classes = s.profile.classes;
    if ((gen === 'sim' && classes === 'usim-only') || (gen === 'usim' && classes === 'sim-only')) {
      return sw(SW.CLA_NOT_SUPPORTED);
    }
    const handler = HANDLERS[bytes[1]!];
    if (handler === undefined || !insFitsClass(bytes[0]!, bytes[1]!)) return sw(SW.INS_NOT_SUPPORTED);
    let cmd: CommandApdu;
    try {
      cmd = parseApdu(bytes);
    } catch {
      return sw(SW.WRONG_LENGTH);
    }
    return handler(s, gen, cmd, pending);
  }

  /** A copy of the card's state, for assertions. */
  snapshot(): VirtualUiccSnapshot {
    const s = this.#state;
    const records = (ef: typeof s.fs.adn) =>
      ef.body.kind === 'records' ? ef.body.records.map((r) => r.slice()) : [];
    const data = (ef: typeof s.fs.adn) =>
      ef.body.kind === 'transparent' ? ef.body.data.slice() : new Uint8Array(0);
    return {
      powered: this.#powered,
      pinVerified: s.pinVerified,
      pinEnabled: s.pin1Enabled,
      pinRetriesLeft: s.pin.left,
      pukRetriesLeft: s.puk.left,
      pinBlock: s.pin.value(),
      iccid: data(s.fs.iccid),
      imsi: data(s.fs.imsi),
      adnRecords: records(s.fs.adn),
      terminalIdRecords: s.fs.terminalIds === undefined ? undefined : records(s.fs.terminalIds),
      seqMs: s.aka?.sqns.seqMs(),
    };
  }
}

type Handler = (
  state: CardState,
  gen: Generation,
  cmd: CommandApdu,
  pending: Uint8Array | undefined,
) => Uint8Array;

/**
 * INS codes common to TS 51.011 §9.2 and TS 102 221 §10.1.2 that this card
 * implements; 88 is RUN GSM ALGORITHM (2G) / AUTHENTICATE (3G, TS 31.102 §7.1.2).
 */
const HANDLERS: Partial<Record<number, Handler>> = {
  164: files.select,
  242: files.status,
  176: files.readBinary,
  214: files.updateBinary,
  178: files.readRecord,
  220: files.updateRecord,
  32: verify,
  44: unblock,
  192: files.getResponse,
  136: authenticateOrRunGsm,
};
