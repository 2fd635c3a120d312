import { decode, encode } from 'cborg';
import type { Clock, NvOp, NvStore, Unsubscribe } from '../../hal/index.js';
import { Mutex } from '../mutex.js';
import type { Category, RecordMeta } from '../protocol/index.js';

/**
 * The personal information storage area 6a (FIG. 5, FIG. 6) on the NvStore.
 *
 * Keys (one NV entry each, so a change rewrites only its own record):
 *   r/<category>/<id>   the record: body (null = deleted, not yet acknowledged), base seq, editedAt
 *   x/<category>/<id>   dirty marker: a local change the server has not acknowledged
 *   a/<category>/<id>   set-aside marker: a change the server rejected, with the reason
 *   m/anchor            the last server sequence applied here
 *   m/ahead/<category>  [0043] a category downloaded on access past the anchor, up to here
 *   m/catch-up          categories added (or filters loosened) after the anchor passed their data
 *   m/batch             the upload batch in flight (for an idempotent resend after power loss)
 *   m/batch-id          the last batch id used
 *   m/clock             the hybrid logical clock: the latest edit time seen here or on the server
 *
 * Power may fail between any two commits (DESIGN.md "NvStore"): every state
 * change that must stay consistent lands in one `commit`.
 */
export interface LocalRecord {
  category: Category;
  id: string;
  /** null: deleted here, deletion not yet acknowledged by the server. */
  body: Uint8Array | null;
  /** Server sequence this version derives from (0: never on the server). */
  base: number;
  editedAt: number;
  dirty: boolean;
  /** [0033] folder and date, and a title. */
  meta?: RecordMeta;
  /** [0094]: only a stub is here (body empty); the substance is fetched on access. */
  stub?: Stub;
}

/** [0094]: what a stub says about the substance it stands for. */
export interface Stub {
  size: number;
  /** SHA-256 of the substance. */
  hash: Uint8Array;
}

/** [0033]/[0043]: categories whose server data before `upTo` still has to come down. */
export interface CatchUp {
  categories: Category[];
  after: number;
  upTo: number;
}

/** A change received from the server. */
export interface IncomingChange {
  category: Category;
  id: string;
  seq: number;
  editedAt: number;
  body: Uint8Array | null;
  meta?: RecordMeta;
  stub?: Stub;
}

export interface PendingBatch {
  id: number;
  /** What was sent: the records and the edit each carried. */
  items: { category: Category; id: string; editedAt: number }[];
}

/** How an acknowledged change settles locally. */
export type AckOutcome =
  | { kind: 'applied'; seq: number }
  | { kind: 'lost'; winner?: IncomingChange }
  | { kind: 'set-aside'; reason: string };

interface StoredRecord {
  b: Uint8Array | null;
  s: number;
  t: number;
  m?: RecordMeta;
  z?: Stub;
}

const recordKey = (c: Category, id: string) => `r/${c}/${id}`;
const dirtyKey = (c: Category, id: string) => `x/${c}/${id}`;
const asideKey = (c: Category, id: string) => `a/${c}/${id}`;

function splitKey(key: string): { category: Category; id: string } {
  const second = key.indexOf('/', 2);
  return { category: key.slice(2, second) as Category, id: key.slice(second + 1) };
}

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
    const raw = await this.nv.get(recordKey(category, id));
    if (raw === undefined) return undefined;
    const dirty = (await this.nv.get(dirtyKey(category, id))) !== undefined;
    return toLocal(category, id, decode(raw) as StoredRecord, dirty);
  }

  /** Live records of a category (deleted-but-unacknowledged ones excluded). */
  async list(category: Category): Promise<LocalRecord[]> {
    const [records, dirty] = await Promise.all([this.nv.scan(`r/${category}/`), this.dirtyKeys(category)]);
    return records
      .map(({ key, value }) => {
        const { id } = splitKey(key);
        return toLocal(category, id, decode(value) as StoredRecord, dirty.has(id));
      })
      .filter((r) => r.body !== null);
  }

  /** A local edit (create or update): marks the record dirty, clears any set-aside mark. */
  put(category: Category, id: string, body: Uint8Array, meta?: RecordMeta): Promise<LocalRecord> {
    return this.edit(category, id, body, meta);
  }

  /** A local deletion ([0060]): kept as a dirty tombstone until the server acknowledges it. */
  async remove(category: Category, id: string): Promise<boolean> {
    const existing = await this.get(category, id);
    if (existing === undefined || existing.body === null) return false;
    if (existing.base === 0) {
      // Never reached the server: forget it outright.
      await this.mutex.run(() =>
        this.nv.commit([
          { op: 'del', key: recordKey(category, id) },
          { op: 'del', key: dirtyKey(category, id) },
          { op: 'del', key: asideKey(category, id) },
        ]),
      );
      return true;
    }
    await this.edit(category, id, null);
    return true;
  }

  private async edit(
    category: Category,
    id: string,
    body: Uint8Array | null,
    meta?: RecordMeta,
  ): Promise<LocalRecord> {
    const record = await this.mutex.run(async () => {
      const raw = await this.nv.get(recordKey(category, id));
      const held = raw === undefined ? undefined : (decode(raw) as StoredRecord);
      const base = held?.s ?? 0;
      // Hybrid logical clock: an edit is always stamped after every version this
      // terminal has seen, so a terminal whose clock lags cannot lose to the
      // very version it edited ([0068]).
      const editedAt = Math.max(this.clock.now(), (await this.hlc()) + 1);
      const kept = meta ?? (body === null ? undefined : held?.m);
      const stored: StoredRecord = { b: body, s: base, t: editedAt, ...(kept ? { m: kept } : {}) };
      await this.nv.commit([
        { op: 'put', key: recordKey(category, id), value: encode(stored) },
        { op: 'put', key: dirtyKey(category, id), value: new Uint8Array(0) },
        { op: 'del', key: asideKey(category, id) },
        { op: 'put', key: 'm/clock', value: encode(editedAt) },
      ]);
      return toLocal(category, id, stored, true);
    });
    for (const listener of this.editListeners) listener(record);
    return record;
  }

  /** The hybrid logical clock's last value (0 before any edit or download). */
  async hlc(): Promise<number> {
    const raw = await this.nv.get('m/clock');
    return raw === undefined ? 0 : (decode(raw) as number);
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
    const raw = await this.nv.get('m/anchor');
    return raw === undefined ? 0 : (decode(raw) as number);
  }

  async pendingBatch(): Promise<PendingBatch | undefined> {
    const raw = await this.nv.get('m/batch');
    return raw === undefined ? undefined : (decode(raw) as PendingBatch);
  }

  /** Records the batch about to be sent, under a fresh id, before it leaves the terminal. */
  beginBatch(records: readonly LocalRecord[]): Promise<PendingBatch> {
    return this.mutex.run(async () => {
      const last = await this.nv.get('m/batch-id');
      const batch: PendingBatch = {
        id: (last === undefined ? 0 : (decode(last) as number)) + 1,
        items: records.map((r) => ({ category: r.category, id: r.id, editedAt: r.editedAt })),
      };
      await this.nv.commit([
        { op: 'put', key: 'm/batch-id', value: encode(batch.id) },
        { op: 'put', key: 'm/batch', value: encode(batch) },
      ]);
      return batch;
    });
  }

  /**
   * Settles an acknowledged batch in ONE commit: dirty flags clear in the same
   * commit that records the acknowledgement (DESIGN.md "Sync model"). A record
   * edited again while the batch was in flight stays dirty, on the new base.
   */
  settleBatch(batch: PendingBatch, outcomes: readonly AckOutcome[], anchor?: number): Promise<void> {
    return this.mutex.run(async () => {
      const ops: NvOp[] = [{ op: 'del', key: 'm/batch' }];
      const winners: number[] = [];
      if (anchor !== undefined) ops.push({ op: 'put', key: 'm/anchor', value: encode(anchor) });
      for (const [i, item] of batch.items.entries()) {
        const outcome = outcomes[i];
        if (outcome === undefined) continue;
        const raw = await this.nv.get(recordKey(item.category, item.id));
        const current = raw === undefined ? undefined : (decode(raw) as StoredRecord);
        const unchanged = current !== undefined && current.t === item.editedAt;
        ops.push(...settleOne(item.category, item.id, current, unchanged, outcome));
        if (outcome.kind === 'lost' && outcome.winner) winners.push(outcome.winner.editedAt);
      }
      if (winners.length > 0) {
        ops.push({ op: 'put', key: 'm/clock', value: encode(Math.max(await this.hlc(), ...winners)) });
      }
      await this.nv.commit(ops);
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
    anchorKey = 'm/anchor',
  ): Promise<IncomingChange[]> {
    return this.mutex.run(async () => {
      const ops: NvOp[] = [{ op: 'put', key: anchorKey, value: encode(anchor) }];
      const applied: IncomingChange[] = [];
      const clock = Math.max(await this.hlc(), ...changes.map((c) => c.editedAt));
      if (changes.length > 0) ops.push({ op: 'put', key: 'm/clock', value: encode(clock) });
      for (const change of changes) {
        if ((await this.nv.get(dirtyKey(change.category, change.id))) !== undefined) continue;
        const held = await this.nv.get(recordKey(change.category, change.id));
        if (held !== undefined && (decode(held) as StoredRecord).s === change.seq) continue;
        ops.push(...storeServerVersion(change));
        applied.push(change);
      }
      await this.nv.commit(ops);
      return applied;
    });
  }

  /**
   * Collective erase (FIG. 20 S86) of the given categories, in one commit
   * together with `extra` (the end of the erase intent, the factory reset).
   */
  erase(categories: readonly Category[], extra: readonly NvOp[] = []): Promise<number> {
    return this.mutex.run(async () => {
      const ops: NvOp[] = [];
      for (const category of categories) {
        for (const prefix of ['r/', 'x/', 'a/', 'p/', 'q/']) {
          for (const { key } of await this.nv.scan(`${prefix}${category}/`)) ops.push({ op: 'del', key });
        }
        const ahead = await this.nv.get(`m/ahead/${category}`);
        if (ahead !== undefined) ops.push({ op: 'del', key: `m/ahead/${category}` });
      }
      const erased = ops.filter((op) => op.key.startsWith('r/')).length;
      await this.nv.commit([...ops, ...extra]);
      return erased;
    });
  }

  /**
   * FIG. 20 S86 without losing anything: erases the categories (and commits
   * `extra` with them) only if none of their data is unsynced, checked under
   * the same lock that edits take, so no edit slips in between.
   */
  eraseIfSynced(categories: readonly Category[], extra: () => Promise<NvOp[]>): Promise<number | undefined> {
    return this.mutex.run(async () => {
      if ((await this.unsyncedNow(categories)) > 0) return undefined;
      const ops: NvOp[] = [];
      for (const category of categories) {
        for (const prefix of ['r/', 'x/', 'a/', 'p/', 'q/']) {
          for (const { key } of await this.nv.scan(`${prefix}${category}/`)) ops.push({ op: 'del', key });
        }
        if ((await this.nv.get(`m/ahead/${category}`)) !== undefined) {
          ops.push({ op: 'del', key: `m/ahead/${category}` });
        }
      }
      const erased = ops.filter((op) => op.key.startsWith('r/')).length;
      const more = (await extra()).filter((op) => !ops.some((o) => o.key === op.key));
      await this.nv.commit([...ops, ...more]);
      return erased;
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

  private async unsyncedNow(categories: readonly Category[]): Promise<number> {
    let count = (await this.dirty(categories)).length;
    count += (await this.setAside()).filter((a) => categories.includes(a.category)).length;
    const pending = await this.pendingBatch();
    if (pending?.items.some((i) => categories.includes(i.category))) count++;
    return count;
  }

  /** [0043]: how far a category was downloaded on access, past the anchor. */
  async ahead(category: Category): Promise<number> {
    const raw = await this.nv.get(`m/ahead/${category}`);
    return Math.max(await this.anchor(), raw === undefined ? 0 : (decode(raw) as number));
  }

  async catchUp(): Promise<CatchUp | undefined> {
    const raw = await this.nv.get('m/catch-up');
    return raw === undefined ? undefined : (decode(raw) as CatchUp);
  }

  /**
   * Categories added (or whose filters were loosened) need their older server
   * data: everything up to the current anchor, which already passed it.
   */
  addCatchUp(categories: readonly Category[]): Promise<void> {
    return this.mutex.run(async () => {
      const anchor = await this.anchor();
      const raw = await this.nv.get('m/catch-up');
      const current = raw === undefined ? undefined : (decode(raw) as CatchUp);
      if (anchor === 0 && current === undefined) return;
      // A catch-up still running restarts from 0 with the union: simple, and each version is applied once.
      const merged = [...new Set([...(current?.categories ?? []), ...categories])];
      const next: CatchUp = { categories: merged, after: 0, upTo: Math.max(anchor, current?.upTo ?? 0) };
      await this.nv.commit([{ op: 'put', key: 'm/catch-up', value: encode(next) }]);
    });
  }

  /** Applies a catch-up page; the catch-up ends (is deleted) with its last page. */
  applyCatchUp(
    changes: readonly IncomingChange[],
    catchUp: CatchUp,
    next: number,
  ): Promise<IncomingChange[]> {
    return this.mutex.run(async () => {
      const applied: IncomingChange[] = [];
      const ops: NvOp[] = [];
      for (const change of changes) {
        if ((await this.nv.get(dirtyKey(change.category, change.id))) !== undefined) continue;
        const held = await this.nv.get(recordKey(change.category, change.id));
        // Only what is missing or older: a newer version may already be here from the anchor's download.
        if (held !== undefined && (decode(held) as StoredRecord).s >= change.seq) continue;
        ops.push(...storeServerVersion(change));
        applied.push(change);
      }
      ops.push(
        next >= catchUp.upTo
          ? { op: 'del', key: 'm/catch-up' }
          : { op: 'put', key: 'm/catch-up', value: encode({ ...catchUp, after: next }) },
      );
      await this.nv.commit(ops);
      return applied;
    });
  }

  /** [0094]: puts the fetched substance in place of a stub, if the stub is still that version. */
  installSubstance(
    category: Category,
    id: string,
    seq: number,
    body: Uint8Array,
    extra: NvOp[],
  ): Promise<boolean> {
    return this.mutex.run(async () => {
      const raw = await this.nv.get(recordKey(category, id));
      const held = raw === undefined ? undefined : (decode(raw) as StoredRecord);
      if (held?.z === undefined || held.s !== seq) {
        await this.nv.commit(extra);
        return false;
      }
      const { z: _stub, ...rest } = held;
      await this.nv.commit([
        ...extra,
        { op: 'put', key: recordKey(category, id), value: encode({ ...rest, b: body }) },
      ]);
      return true;
    });
  }

  /** Forgets the anchor so the next download starts from the beginning ([0067]). */
  resetAnchor(): Promise<void> {
    return this.mutex.run(() => this.nv.commit([{ op: 'put', key: 'm/anchor', value: encode(0) }]));
  }

  private async dirtyKeys(category: Category): Promise<Set<string>> {
    return new Set((await this.nv.scan(`x/${category}/`)).map(({ key }) => splitKey(key).id));
  }
}

function toLocal(category: Category, id: string, stored: StoredRecord, dirty: boolean): LocalRecord {
  const record: LocalRecord = { category, id, body: stored.b, base: stored.s, editedAt: stored.t, dirty };
  if (stored.m !== undefined) record.meta = stored.m;
  if (stored.z !== undefined) record.stub = stored.z;
  return record;
}

function storeServerVersion(change: IncomingChange): NvOp[] {
  const key = recordKey(change.category, change.id);
  if (change.body === null) return [{ op: 'del', key }];
  const stored: StoredRecord = { b: change.body, s: change.seq, t: change.editedAt };
  if (change.meta !== undefined) stored.m = change.meta;
  if (change.stub !== undefined) stored.z = change.stub;
  return [{ op: 'put', key, value: encode(stored) }];
}

function settleOne(
  category: Category,
  id: string,
  current: StoredRecord | undefined,
  unchanged: boolean,
  outcome: AckOutcome,
): NvOp[] {
  const key = recordKey(category, id);
  switch (outcome.kind) {
    case 'applied': {
      if (current === undefined) return [];
      if (unchanged) {
        const clear: NvOp = { op: 'del', key: dirtyKey(category, id) };
        if (current.b === null) return [clear, { op: 'del', key }];
        return [clear, { op: 'put', key, value: encode({ ...current, s: outcome.seq }) }];
      }
      // Edited again in flight: stays dirty, now based on what the server holds.
      return [{ op: 'put', key, value: encode({ ...current, s: outcome.seq }) }];
    }
    case 'lost':
      if (!unchanged) return [];
      if (outcome.winner === undefined) {
        // The winner comes with the next download; until then the local version stays, clean.
        return [{ op: 'del', key: dirtyKey(category, id) }];
      }
      return [{ op: 'del', key: dirtyKey(category, id) }, ...storeServerVersion(outcome.winner)];
    case 'set-aside':
      if (!unchanged) return [];
      return [
        { op: 'del', key: dirtyKey(category, id) },
        { op: 'put', key: asideKey(category, id), value: new TextEncoder().encode(outcome.reason) },
      ];
  }
}
