import { encode } from 'cborg';
import type { Clock, NvOp, NvStore, Unsubscribe } from '../../hal/index.js';
import { Mutex } from '../mutex.js';
import type { Category, RecordMeta } from '../protocol/index.js';
import {
  type AckOutcome,
  asideOps,
  decodeBatch,
  newBatch,
  type PendingBatch,
  settlementOps,
} from './batch-settlement.js';
import { eraseOps } from './category-erase.js';
import { type CatchUp, catchUpOps, downloadOps, widenedCatchUp } from './download-apply.js';
import type { IncomingChange, LocalRecord } from './local-record.js';
import { readValue } from './nv-value.js';
import {
  ANCHOR_KEY,
  aheadKey,
  asideKey,
  BATCH_KEY,
  CATCH_UP_KEY,
  CLOCK_KEY,
  decodeHeld,
  dirtyKey,
  encodeStored,
  forgetOps,
  isDirty,
  readHlc,
  readStored,
  recordKey,
  type StoredRecord,
  splitKey,
  toLocal,
} from './stored-record.js';

export type { AckOutcome, PendingBatch } from './batch-settlement.js';
export type { CatchUp } from './download-apply.js';
export type { IncomingChange, LocalRecord, Stub } from './local-record.js';

/**
 * What may be read of the store from outside the engine: nothing that
 * writes (Terminal.records; every user edit goes through Terminal.edit).
 */
export type RecordReader = Pick<RecordStore, 'get' | 'list' | 'dirtyCount' | 'setAside' | 'pendingBatch'>;

/**
 * The personal information storage area 6a (FIG. 5, FIG. 6) on the NvStore;
 * its key layout is in stored-record.ts.
 *
 * Power may fail between any two commits (DESIGN.md "NvStore"): every state
 * change that must stay consistent lands in one `commit`, taken under the
 * store's lock.
 */
export class RecordStore {
  private readonly mutex = new Mutex();
  private readonly editListeners = new Set<(record: LocalRecord) => void>();

  constructor(
    private readonly nv: NvStore,
    private readonly clock: Clock,
  ) {}

  /** Called after every local edit or deletion is committed (the a3/a4 triggers of [0042]). */
  onEdit(listener: (record: LocalRecord) => void): Unsubscribe {
    this.editListeners.add(listener);
    return () => this.editListeners.delete(listener);
  }

  async get(category: Category, id: string): Promise<LocalRecord | undefined> {
    const stored = await readStored(this.nv, category, id);
    if (stored === undefined) return undefined;
    return toLocal(category, id, stored, await isDirty(this.nv, category, id));
  }

  /** Live records of a category (deleted-but-unacknowledged ones excluded). */
  async list(category: Category): Promise<LocalRecord[]> {
    const [records, seqs, dirty] = await Promise.all([
      this.nv.scan(`r/${category}/`),
      this.nv.scan(`s/${category}/`),
      this.dirtyKeys(category),
    ]);
    const seqOf = new Map(seqs.map(({ key, value }) => [splitKey(key).id, value]));
    return records
      .map(({ key, value }) => {
        const { id } = splitKey(key);
        return toLocal(category, id, decodeHeld(value, seqOf.get(id)), dirty.has(id));
      })
      .filter((r) => r.body !== null);
  }

  /** A local edit (create or update): marks the record dirty, clears any set-aside mark. */
  put(category: Category, id: string, body: Uint8Array, meta?: RecordMeta): Promise<LocalRecord> {
    return this.edit(category, id, body, meta);
  }

  /**
   * A local deletion ([0060]): kept as a dirty tombstone until the server
   * acknowledges it. A record that never reached the server is forgotten,
   * unless a batch in flight carries it: the server may have applied that
   * batch, its ack lost, so the deletion must still go.
   */
  async remove(category: Category, id: string): Promise<boolean> {
    const existing = await this.get(category, id);
    if (existing === undefined || existing.body === null) return false;
    const inFlight = (await this.pendingBatch())?.items.some((i) => i.category === category && i.id === id);
    if (existing.base > 0 || inFlight) {
      await this.edit(category, id, null);
      return true;
    }
    // Never reached the server: forget it outright.
    await this.mutex.run(() => this.nv.commit(forgetOps(category, id)));
    return true;
  }

  private async edit(
    category: Category,
    id: string,
    body: Uint8Array | null,
    meta?: RecordMeta,
  ): Promise<LocalRecord> {
    const record = await this.mutex.run(async () => {
      const held = await readStored(this.nv, category, id);
      // Hybrid logical clock: an edit is always stamped after every version this
      // terminal has seen, so a terminal whose clock lags cannot lose to the
      // very version it edited ([0068]).
      const editedAt = Math.max(this.clock.now(), (await this.hlc()) + 1);
      const kept = meta ?? (body === null ? undefined : held?.m);
      const stored: StoredRecord = { b: body, t: editedAt, ...(kept ? { m: kept } : {}) };
      // The base (s/) stays as it is: the edit derives from the same server version.
      const ops: NvOp[] = [
        { op: 'put', key: recordKey(category, id), value: encodeStored(stored) },
        { op: 'put', key: dirtyKey(category, id), value: new Uint8Array(0) },
        { op: 'put', key: CLOCK_KEY, value: encode(editedAt) },
      ];
      const aside = asideKey(category, id);
      if ((await this.nv.get(aside)) !== undefined) ops.push({ op: 'del', key: aside });
      await this.nv.commit(ops);
      return toLocal(category, id, { ...stored, s: held?.s ?? 0 }, true);
    });
    for (const listener of this.editListeners) listener(record);
    return record;
  }

  /** The hybrid logical clock's last value (0 before any edit or download). */
  hlc(): Promise<number> {
    return readHlc(this.nv);
  }

  /** Dirty records of the given categories, oldest edit first. */
  async dirty(categories: readonly Category[]): Promise<LocalRecord[]> {
    const out: LocalRecord[] = [];
    for (const { key } of await this.nv.scan('x/')) {
      const { category, id } = splitKey(key);
      if (!categories.includes(category)) continue;
      const record = await this.get(category, id);
      if (record !== undefined) out.push(record);
    }
    return out.sort((a, b) => a.editedAt - b.editedAt);
  }

  async dirtyCount(): Promise<number> {
    return (await this.nv.scan('x/')).length;
  }

  /** Changes the server rejected, with its reason; they stay until edited again or discarded. */
  async setAside(): Promise<{ category: Category; id: string; reason: string }[]> {
    return (await this.nv.scan('a/')).map(({ key, value }) => ({
      ...splitKey(key),
      reason: new TextDecoder().decode(value),
    }));
  }

  async anchor(): Promise<number> {
    return (await readValue<number>(this.nv, ANCHOR_KEY)) ?? 0;
  }

  async pendingBatch(): Promise<PendingBatch | undefined> {
    const raw = await this.nv.get(BATCH_KEY);
    return raw === undefined ? undefined : decodeBatch(raw);
  }

  /** Records the batch about to be sent, under a fresh id, before it leaves the terminal. */
  beginBatch(records: readonly LocalRecord[]): Promise<PendingBatch> {
    return this.mutex.run(async () => {
      const { batch, ops } = await newBatch(this.nv, records);
      await this.nv.commit(ops);
      return batch;
    });
  }

  /**
   * Settles an acknowledged batch in ONE commit: dirty flags clear in the same
   * commit that records the acknowledgement (DESIGN.md "Sync model"). A record
   * edited again while the batch was in flight stays dirty, on the new base.
   */
  settleBatch(batch: PendingBatch, outcomes: readonly AckOutcome[], anchor?: number): Promise<void> {
    return this.mutex.run(async () => this.nv.commit(await settlementOps(this.nv, batch, outcomes, anchor)));
  }

  /**
   * Sets a change aside that will not go to the server as it is (the server
   * refused its body before any batch carried it, or it cannot be put on the
   * wire): no longer dirty, kept with `reason` until edited again, in ONE
   * commit, together with the end of `batch` when one carried it. Nothing
   * happens when the record was edited since (`editedAt`): that edit is
   * tried on its own. Resolves whether it was set aside.
   */
  putAside(
    record: Pick<LocalRecord, 'category' | 'id' | 'editedAt'>,
    reason: string,
    batch?: PendingBatch,
  ): Promise<boolean> {
    return this.mutex.run(async () => {
      const current = await readStored(this.nv, record.category, record.id);
      const unchanged = current !== undefined && current.t === record.editedAt;
      const ops: NvOp[] = batch ? [{ op: 'del', key: BATCH_KEY }] : [];
      if (unchanged) ops.push(...asideOps(record.category, record.id, reason));
      if (ops.length > 0) await this.nv.commit(ops);
      return unchanged;
    });
  }

  /**
   * Forgets a batch the server refused as a whole (an error reply applies
   * nothing): its records stay dirty, to be sent again in other batches.
   */
  dropBatch(batch: PendingBatch): Promise<void> {
    return this.mutex.run(async () => {
      if ((await this.pendingBatch())?.id !== batch.id) return;
      await this.nv.commit([{ op: 'del', key: BATCH_KEY }]);
    });
  }

  /**
   * Applies a download page and its anchor in ONE commit. A record with an
   * unacknowledged local edit keeps it: the server resolves the conflict on
   * the next upload ([0068]). A version already held (same server sequence)
   * is not applied again. Returns what was applied.
   */
  applyDownload(
    changes: readonly IncomingChange[],
    anchor: number,
    anchorKey = ANCHOR_KEY,
  ): Promise<IncomingChange[]> {
    return this.mutex.run(async () => {
      const { ops, applied } = await downloadOps(this.nv, changes, anchor, anchorKey);
      await this.nv.commit(ops);
      return applied;
    });
  }

  /** Collective erase (FIG. 20 S86) of the given categories, in one commit together with `extra`. */
  erase(categories: readonly Category[], extra: readonly NvOp[] = []): Promise<number> {
    return this.mutex.run(() => this.eraseNow(categories, async () => [...extra]));
  }

  /**
   * FIG. 20 S86 without losing anything: erases the categories (and commits
   * `extra` with them) only if none of their data is unsynced, checked under
   * the same lock that edits take, so no edit slips in between.
   */
  eraseIfSynced(categories: readonly Category[], extra: () => Promise<NvOp[]>): Promise<number | undefined> {
    return this.mutex.run(async () => {
      if ((await this.unsyncedNow(categories)) > 0) return undefined;
      return this.eraseNow(categories, extra);
    });
  }

  /** Every key of the sync state (m/…), for a factory reset. */
  async syncStateKeys(): Promise<string[]> {
    return (await this.nv.scan('m/')).map((e) => e.key);
  }

  /** Unsynced data of these categories: dirty, set aside, or in a batch not yet acknowledged. */
  unsynced(categories: readonly Category[]): Promise<number> {
    return this.mutex.run(() => this.unsyncedNow(categories));
  }

  /** [0043]: how far a category was downloaded on access, past the anchor. */
  async ahead(category: Category): Promise<number> {
    return Math.max(await this.anchor(), (await readValue<number>(this.nv, aheadKey(category))) ?? 0);
  }

  catchUp(): Promise<CatchUp | undefined> {
    return readValue<CatchUp>(this.nv, CATCH_UP_KEY);
  }

  /**
   * Categories added (or whose filters were loosened) need their older server
   * data: everything up to the current anchor, which already passed it.
   */
  addCatchUp(categories: readonly Category[]): Promise<void> {
    return this.mutex.run(async () => {
      const next = widenedCatchUp(await this.anchor(), await this.catchUp(), categories);
      if (next === undefined) return;
      await this.nv.commit([{ op: 'put', key: CATCH_UP_KEY, value: encode(next) }]);
    });
  }

  /** Applies a catch-up page; the catch-up ends (is deleted) with its last page. */
  applyCatchUp(
    changes: readonly IncomingChange[],
    catchUp: CatchUp,
    next: number,
  ): Promise<IncomingChange[]> {
    return this.mutex.run(async () => {
      const { ops, applied } = await catchUpOps(this.nv, changes, catchUp, next);
      await this.nv.commit(ops);
      return applied;
    });
  }

  /**
   * [0094]: puts the fetched substance in place of a stub, if the stub is
   * still that version; resolves the record as installed (its body the bytes
   * given, not read back), or undefined when the stub had changed.
   */
  installSubstance(
    category: Category,
    id: string,
    seq: number,
    body: Uint8Array,
    extra: NvOp[],
  ): Promise<LocalRecord | undefined> {
    return this.mutex.run(async () => {
      const held = await readStored(this.nv, category, id);
      if (held?.z === undefined || held.s !== seq) {
        await this.nv.commit(extra);
        return undefined;
      }
      const { z: _stub, ...rest } = held;
      await this.nv.commit([
        ...extra,
        { op: 'put', key: recordKey(category, id), value: encodeStored({ ...rest, b: body }) },
      ]);
      return toLocal(category, id, { ...rest, b: body }, await isDirty(this.nv, category, id));
    });
  }

  /** Forgets the anchor so the next download starts from the beginning ([0067]). */
  resetAnchor(): Promise<void> {
    return this.mutex.run(() => this.nv.commit([{ op: 'put', key: ANCHOR_KEY, value: encode(0) }]));
  }

  private async unsyncedNow(categories: readonly Category[]): Promise<number> {
    let count = (await this.dirty(categories)).length;
    count += (await this.setAside()).filter((a) => categories.includes(a.category)).length;
    const pending = await this.pendingBatch();
    if (pending?.items.some((i) => categories.includes(i.category))) count++;
    return count;
  }

  /** S86 under the lock: `extra` is asked for only now, so it sees the state the erase commits over. */
  private async eraseNow(categories: readonly Category[], extra: () => Promise<NvOp[]>): Promise<number> {
    const { ops, erased } = await eraseOps(this.nv, categories, await extra());
    await this.nv.commit(ops);
    return erased;
  }

  private async dirtyKeys(category: Category): Promise<Set<string>> {
    return new Set((await this.nv.scan(`x/${category}/`)).map(({ key }) => splitKey(key).id));
  }
}
