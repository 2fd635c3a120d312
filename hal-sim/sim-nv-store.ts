import { HalError, type NvEntry, type NvOp, type NvStore } from '../hal/index.js';

export interface SimNvStoreOptions {
  /** Total bytes (keys + values, UTF-8 keys) the store can hold; a commit beyond it rejects 'no-space'. */
  capacityBytes?: number;
}

export interface PowerCutOptions {
  /**
   * Tear the write: apply this many operations of the batch to the data area
   * before power fails. The undo journal written ahead of them lets
   * `powerOn()` roll the batch back, so the batch is still invisible. Default
   * 0 (power fails before the first byte of the batch reaches the data area).
   */
  tornAfterOps?: number;
}

/** Wear figures: what a flash part would have been asked to write. */
export interface NvStoreStats {
  /** Commits that completed. */
  commits: number;
  /** Commits that failed (power lost, no space). */
  failedCommits: number;
  /** Bytes written to the data area: UTF-8 key + value per put, key per delete (a tombstone). */
  bytesWritten: number;
  /** Power cuts that happened (injected or `powerOff()`). */
  powerCuts: number;
}

interface UndoRecord {
  key: string;
  /** The value before the batch touched `key`; undefined when the key did not exist. */
  before: Uint8Array | undefined;
}

const encoder = new TextEncoder();

/**
 * In-memory NvStore with power-loss injection (DESIGN.md "NvStore"; STYLE.md
 * models Zephyr's NVS, which assumes power can fail at any write).
 *
 * Commits go through an undo journal: for each operation the old value is
 * journaled before the data area is changed, and the journal is cleared once
 * the whole batch is applied. A power cut mid-batch leaves the journal
 * behind; `powerOn()` replays it backwards, so a torn batch is never visible.
 * While the power is off every call rejects HalError 'power-lost'.
 * Values are copied in and out: callers may mutate their arrays freely.
 */
export class SimNvStore implements NvStore {
  readonly #capacity: number;
  #data = new Map<string, Uint8Array>();
  #journal: UndoRecord[] | undefined;
  #on = true;
  #cutAt: { remaining: number; tornAfterOps: number } | undefined;
  #corrupt = new Set<string>();
  #stats: NvStoreStats = { commits: 0, failedCommits: 0, bytesWritten: 0, powerCuts: 0 };

  constructor(options: SimNvStoreOptions = {}) {
    this.#capacity = options.capacityBytes ?? Number.POSITIVE_INFINITY;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#checkPower();
    this.#checkCorrupt(key);
    const value = this.#data.get(key);
    return value === undefined ? undefined : value.slice();
  }

  async scan(prefix: string): Promise<NvEntry[]> {
    this.#checkPower();
    const keys = [...this.#data.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (const key of keys) this.#checkCorrupt(key);
    return keys.map((key) => ({ key, value: (this.#data.get(key) as Uint8Array).slice() }));
  }

  async commit(batch: readonly NvOp[]): Promise<void> {
    this.#checkPower();
    const ops = batch.map(copyOp);
    const cut = this.#takeCut();
    // Sizing walks the whole store: only a store with a capacity pays for it.
    if (cut === undefined && Number.isFinite(this.#capacity) && this.#sizeAfter(ops) > this.#capacity) {
      this.#stats.failedCommits++;
      throw new HalError('no-space', `commit needs more than ${this.#capacity} bytes`);
    }
    this.#journal = [];
    for (const [index, op] of ops.entries()) {
      if (cut !== undefined && index >= cut.tornAfterOps) break;
      this.#journal.push({ key: op.key, before: this.#data.get(op.key) });
      this.#apply(op);
    }
    if (cut !== undefined) {
      this.#stats.failedCommits++;
      this.#powerCut();
      throw new HalError('power-lost', 'power failed during commit');
    }
    this.#journal = undefined;
    this.#stats.commits++;
  }

  /**
   * The n-th commit from now (1-based, counting every `commit` call made
   * while powered) loses power: it rejects 'power-lost', none of its batch is
   * visible, and the store stays off until `powerOn()`.
   */
  cutPowerAtCommit(n: number, options: PowerCutOptions = {}): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`cutPowerAtCommit: n must be >= 1, got ${n}`);
    this.#cutAt = { remaining: n, tornAfterOps: Math.max(0, options.tornAfterOps ?? 0) };
  }

  /** Cuts power now (between commits). */
  powerOff(): void {
    this.#powerCut();
  }

  /** Restores power and recovers: an interrupted batch is rolled back from the undo journal. */
  powerOn(): void {
    const journal = this.#journal ?? [];
    for (let i = journal.length - 1; i >= 0; i--) {
      const { key, before } = journal[i] as UndoRecord;
      if (before === undefined) this.#data.delete(key);
      else this.#data.set(key, before);
    }
    this.#journal = undefined;
    this.#on = true;
  }

  isOn(): boolean {
    return this.#on;
  }

  /** Operations of a torn batch waiting to be rolled back by `powerOn()` (0 when clean). */
  pendingRecovery(): number {
    return this.#journal?.length ?? 0;
  }

  /** Marks `key` as failing its checksum: `get` and any `scan` covering it reject 'store-corrupt'. */
  corrupt(key: string): void {
    this.#corrupt.add(key);
  }

  stats(): NvStoreStats {
    return { ...this.#stats };
  }

  /** Bytes currently held (UTF-8 keys + values). */
  sizeBytes(): number {
    let size = 0;
    for (const [key, value] of this.#data) size += encoder.encode(key).length + value.length;
    return size;
  }

  /** Empty, powered, no pending faults, counters zeroed. */
  reset(): void {
    this.#data.clear();
    this.#journal = undefined;
    this.#on = true;
    this.#cutAt = undefined;
    this.#corrupt.clear();
    this.#stats = { commits: 0, failedCommits: 0, bytesWritten: 0, powerCuts: 0 };
  }

  #apply(op: NvOp): void {
    const keyBytes = encoder.encode(op.key).length;
    if (op.op === 'put') {
      this.#data.set(op.key, op.value);
      this.#corrupt.delete(op.key);
      this.#stats.bytesWritten += keyBytes + op.value.length;
    } else {
      this.#data.delete(op.key);
      this.#corrupt.delete(op.key);
      this.#stats.bytesWritten += keyBytes;
    }
  }

  #takeCut(): { tornAfterOps: number } | undefined {
    if (this.#cutAt === undefined) return undefined;
    this.#cutAt.remaining--;
    if (this.#cutAt.remaining > 0) return undefined;
    const cut = this.#cutAt;
    this.#cutAt = undefined;
    return cut;
  }

  #sizeAfter(ops: readonly NvOp[]): number {
    const touched = new Map<string, Uint8Array | undefined>();
    for (const op of ops) touched.set(op.key, op.op === 'put' ? op.value : undefined);
    let size = this.sizeBytes();
    for (const [key, value] of touched) {
      const keyBytes = encoder.encode(key).length;
      const old = this.#data.get(key);
      if (old !== undefined) size -= keyBytes + old.length;
      if (value !== undefined) size += keyBytes + value.length;
    }
    return size;
  }

  #powerCut(): void {
    this.#on = false;
    this.#cutAt = undefined;
    this.#stats.powerCuts++;
  }

  #checkPower(): void {
    if (!this.#on) throw new HalError('power-lost', 'the store has no power');
  }

  #checkCorrupt(key: string): void {
    if (this.#corrupt.has(key)) throw new HalError('store-corrupt', `checksum mismatch for ${key}`);
  }
}

function copyOp(op: NvOp): NvOp {
  return op.op === 'put' ? { op: 'put', key: op.key, value: op.value.slice() } : { op: 'del', key: op.key };
}

/** UTF-16 code unit order, as hal NvStore.scan promises (not locale order). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
