import { UiccError } from '../errors.js';
import { concatBytes } from '../hex.js';
import { MAC_BYTES, type Milenage, macEqual, RAND_BYTES, SQN_BYTES, xorBytes } from './milenage.js';

/**
 * Sequence numbers of TS 33.102 Annex C: SQN = SEQ ‖ IND, 48 bits, with the
 * 5 low bits the index IND into the card's array of a = 32 SEQ_MS values
 * (C.1.2, C.2.1). A number holds all 48 bits exactly (below 2^53).
 */
export const IND_BITS = 5;
/** a, the number of SEQ_MS entries the card keeps (C.2.1; 32 is the value C.3.4 assumes). */
export const IND_COUNT = 1 << IND_BITS;
/** Δ of C.2.2: the card refuses a SEQ more than this far above the highest it accepted (wrap protection). */
export const DELTA = 2 ** 28;
export const SEQ_MAX = 2 ** (48 - IND_BITS) - 1;
export const SQN_MAX = 2 ** 48 - 1;
/** AUTS is Conc(SQN_MS) ‖ MAC-S (TS 33.102 §6.3.3). */
export const AUTS_BYTES = SQN_BYTES + MAC_BYTES;
/** The dummy AMF of MAC-S in a resynchronisation (TS 33.102 §6.3.3: all zeros). */
const RESYNC_AMF = new Uint8Array(2);

export const sqnOf = (seq: number, ind: number): number => seq * IND_COUNT + ind;
export const seqOf = (sqn: number): number => Math.floor(sqn / IND_COUNT);
export const indOf = (sqn: number): number => sqn % IND_COUNT;

function checkSqn(sqn: number): void {
  if (!Number.isInteger(sqn) || sqn < 0 || sqn > SQN_MAX) {
    throw new UiccError('bad-argument', `SQN ${sqn} is not a 48-bit number`);
  }
}

/** SQN as the 6 bytes of AUTN, big-endian. */
export function sqnToBytes(sqn: number): Uint8Array {
  checkSqn(sqn);
  const out = new Uint8Array(SQN_BYTES);
  let rest = sqn;
  for (let i = SQN_BYTES - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

export function sqnFromBytes(bytes: Uint8Array): number {
  if (bytes.length !== SQN_BYTES) throw new UiccError('bad-argument', `SQN is 6 bytes, not ${bytes.length}`);
  let sqn = 0;
  for (const b of bytes) sqn = sqn * 256 + b;
  return sqn;
}

/** Why the card refuses an SQN (C.2.2): not above SEQ_MS(IND), too far ahead, or older than L allows. */
export type SqnRefusal = 'replayed' | 'too-far-ahead' | 'too-old';

export interface UsimSqnOptions {
  /** Δ (default 2^28). */
  delta?: number;
  /** The optional age limit L of C.2.2: refuse a SEQ more than L below the highest accepted. Default none. */
  ageLimit?: number;
}

/**
 * The card's side (TS 33.102 Annex C.2): SEQ_MS(i) for each IND i, all 0 on
 * a fresh card. An SQN is fresh when SEQ > SEQ_MS(IND) (C.2.2), SEQ − SEQ_MS
 * ≤ Δ with SEQ_MS the highest accepted SEQ of the array, and, with an age
 * limit L, SEQ_MS − SEQ ≤ L. Accepting sets SEQ_MS(IND) := SEQ.
 */
export class UsimSqnArray {
  readonly #seq: number[];
  readonly #delta: number;
  readonly #ageLimit: number | undefined;

  /** `seqMs`: the 32 SEQ_MS values to start from (a card's EEPROM); default all 0. */
  constructor(seqMs: readonly number[] = new Array(IND_COUNT).fill(0), options: UsimSqnOptions = {}) {
    if (seqMs.length !== IND_COUNT || !seqMs.every((s) => Number.isInteger(s) && s >= 0 && s <= SEQ_MAX)) {
      throw new UiccError('bad-argument', `SEQ_MS is ${IND_COUNT} numbers of 0..2^43-1`);
    }
    this.#seq = [...seqMs];
    this.#delta = options.delta ?? DELTA;
    this.#ageLimit = options.ageLimit;
  }

  /** Index of the highest SEQ_MS (the lowest such IND when several are equal). */
  #highestInd(): number {
    let best = 0;
    for (let i = 1; i < IND_COUNT; i++) if (this.#seq[i]! > this.#seq[best]!) best = i;
    return best;
  }

  /** SQN_MS of C.2.1 for AUTS: the highest accepted SEQ_MS with its IND. */
  get sqnMs(): number {
    const ind = this.#highestInd();
    return sqnOf(this.#seq[ind]!, ind);
  }

  /** Undefined when `sqn` is fresh; else why not. Changes nothing. */
  verify(sqn: number): SqnRefusal | undefined {
    checkSqn(sqn);
    const seq = seqOf(sqn);
    const highest = this.#seq[this.#highestInd()]!;
    if (seq <= this.#seq[indOf(sqn)]!) return 'replayed';
    if (seq - highest > this.#delta) return 'too-far-ahead';
    if (this.#ageLimit !== undefined && highest - seq > this.#ageLimit) return 'too-old';
    return undefined;
  }

  /** Records `sqn` as accepted: SEQ_MS(IND) := SEQ. Call only after `verify` said it is fresh. */
  accept(sqn: number): void {
    checkSqn(sqn);
    this.#seq[indOf(sqn)] = seqOf(sqn);
  }

  /** A copy of the 32 SEQ_MS values, to persist or inspect. */
  seqMs(): number[] {
    return [...this.#seq];
  }
}

/** AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S, MAC-S = f1*(RAND, SQN_MS, AMF = 0000) (TS 33.102 §6.3.3). */
export function buildAuts(milenage: Milenage, rand: Uint8Array, sqnMs: number): Uint8Array {
  const sqn = sqnToBytes(sqnMs);
  return concatBytes(xorBytes(sqn, milenage.f5star(rand)), milenage.f1star(rand, sqn, RESYNC_AMF));
}

/** What the network makes of an AUTS: the card's SQN_MS, or a typed refusal. */
export type AutsResult =
  | { status: 'ok'; sqnMs: number }
  | { status: 'refused'; reason: 'bad-length' | 'mac-failure' };

/**
 * The HE/AuC side of a resynchronisation (TS 33.102 §6.3.5): recovers
 * SQN_MS = Conc(SQN_MS) ⊕ f5*(RAND) and checks MAC-S = f1*(RAND, SQN_MS,
 * 0000). RAND is the one of the challenge the card refused. Never throws for
 * what the card sent: a wrong length or MAC is a result.
 */
export function resyncFromAuts(milenage: Milenage, rand: Uint8Array, auts: Uint8Array): AutsResult {
  if (auts.length !== AUTS_BYTES || rand.length !== RAND_BYTES)
    return { status: 'refused', reason: 'bad-length' };
  const sqn = xorBytes(auts.subarray(0, SQN_BYTES), milenage.f5star(rand));
  const mac = milenage.f1star(rand, sqn, RESYNC_AMF);
  if (!macEqual(mac, auts.subarray(SQN_BYTES))) return { status: 'refused', reason: 'mac-failure' };
  return { status: 'ok', sqnMs: sqnFromBytes(sqn) };
}

/** The HE's counter for one subscriber: the SEQ last used and the IND the next vector gets. */
export interface AucSqnState {
  readonly seq: number;
  readonly ind: number;
}

/**
 * The network's side (TS 33.102 Annex C.1, C.3): each new vector gets SEQ_HE
 * + 1 (C.1.1, one counter per user) and the next IND in turn modulo a
 * (C.1.2, an allocation that spreads consecutive vectors over the card's
 * array). A resynchronisation keeps SEQ_HE if its next SQN would be
 * accepted by the card, else sets SEQ_HE to SEQ_MS (§6.3.5 step 5, C.3.4).
 */
export class AucSqn {
  #seq: number;
  #ind: number;
  readonly #delta: number;

  constructor(state: AucSqnState = { seq: 0, ind: 0 }, delta = DELTA) {
    if (!Number.isInteger(state.seq) || state.seq < 0 || state.seq > SEQ_MAX) {
      throw new UiccError('bad-argument', `SEQ ${state.seq} is not a 43-bit number`);
    }
    if (!Number.isInteger(state.ind) || state.ind < 0 || state.ind >= IND_COUNT) {
      throw new UiccError('bad-argument', `IND ${state.ind} is not one of 0..${IND_COUNT - 1}`);
    }
    this.#seq = state.seq;
    this.#ind = state.ind;
    this.#delta = delta;
  }

  /** The SQN for the next vector; advances SEQ_HE and IND. Throws 'bad-argument' once SEQ is exhausted. */
  next(): number {
    if (this.#seq >= SEQ_MAX) throw new UiccError('bad-argument', 'SEQ_HE is exhausted');
    this.#seq += 1;
    const sqn = sqnOf(this.#seq, this.#ind);
    this.#ind = (this.#ind + 1) % IND_COUNT;
    return sqn;
  }

  /** Applies the SQN_MS of a verified AUTS (from `resyncFromAuts`). */
  resync(sqnMs: number): void {
    checkSqn(sqnMs);
    const seqMs = seqOf(sqnMs);
    const next = this.#seq + 1;
    if (next > seqMs && next - seqMs <= this.#delta) return;
    this.#seq = seqMs;
  }

  state(): AucSqnState {
    return { seq: this.#seq, ind: this.#ind };
  }
}
