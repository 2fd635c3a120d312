import { type Category, type Filters, passesFilters, type WireChange } from '../../core/protocol/index.js';
import type { StoredRecord, SyncStore } from '../store/sync-store.js';
import { toStub, toWire } from './wire.js';

export interface DownloadQuery {
  subscriber: string;
  categories: readonly Category[];
  /** [0033] the terminal's finer criteria; records they leave out are skipped. */
  filters?: Filters | undefined;
  after: number;
  /** A catch-up stops here instead of at the latest change. */
  upTo?: number | undefined;
  /** Bytes of bodies the terminal accepts in one page (at least one change is sent unless `strict`). */
  maxBytes: number;
  /** [0085]: never more than `maxBytes`, even for the first change. */
  strict?: boolean | undefined;
  /** [0094]: bodies above `above` bytes in these categories go as stubs. */
  stubs?: { above: number; categories: readonly Category[] } | undefined;
  /** Bytes the encoded page may take on the wire, bodies and framing together. */
  maxMessageBytes: number;
  /** The server's clock, for recency filters. */
  now: number;
  /**
   * Versions (seqs) the terminal is known to hold, written by its own last
   * acknowledged upload: passed over like filtered ones, never sent, so a
   * page carries, and counts, only what the terminal lacks.
   */
  held?: ReadonlySet<number> | undefined;
}

export type DownloadPage =
  | { kind: 'page'; changes: WireChange[]; next: number; more: boolean; bytes: number }
  | { kind: 'out-of-order'; latest: number };

/** Rows fetched per store call while filling a page. */
const CHUNK = 256;
/**
 * Body bytes a store call reads at least, beyond what the page still has
 * room for: filtered rows cost few calls, and a page never reads bodies it
 * cannot send (issue 20: a page of 1 MB photos read all 256 that followed).
 */
const READ_FLOOR = 16 * 1024;
/** CBOR framing of one change beyond its id and body, rounded up (meta and stub hash included). */
const CHANGE_OVERHEAD = 40;
const META_OVERHEAD = 400;

function asChange(r: StoredRecord, q: DownloadQuery): WireChange {
  const body = r.body;
  if (body === null) return toWire(r);
  const lazy = q.stubs && body.length > q.stubs.above && q.stubs.categories.includes(r.category);
  // [0094]: a body no message could carry (uploaded in parts) always comes as a stub, fetched in ranges.
  const framed = body.length + 3 * r.recordId.length + CHANGE_OVERHEAD + META_OVERHEAD;
  if (lazy || framed > q.maxMessageBytes) return toStub({ ...r, body });
  return toWire(r);
}

/**
 * Downloads move only differences (DESIGN.md "Sync model"): the current state
 * of each record changed after the anchor, once, in seq order, filtered by the
 * terminal's categories and filters. `next` is the last seq looked at, or,
 * once nothing more matches, the end of the range, so the anchor also moves
 * past changes filtered out.
 */
export async function downloadPage(store: SyncStore, q: DownloadQuery): Promise<DownloadPage> {
  // Read the latest seq first and never look past it: a change committed while
  // this page is filled gets a seq above it and is found by the next download.
  const latest = await store.latestSeq(q.subscriber);
  if (q.after > latest) return { kind: 'out-of-order', latest };
  const end = Math.min(latest, q.upTo ?? latest);
  const changes: WireChange[] = [];
  let bodies = 0;
  let wire = 0;
  let cursor = q.after;
  let more = false;
  fill: for (;;) {
    if (changes.length > 0 && bodies >= q.maxBytes) {
      // Full: only empty bodies could still join, and the next page takes them.
      more = cursor < end;
      break;
    }
    const cap = Math.max(READ_FLOOR, q.maxBytes - bodies);
    const rows = await store.recordsAfter({
      subscriber: q.subscriber,
      after: cursor,
      upTo: end,
      categories: q.categories,
      limit: CHUNK,
      maxBodyBytes: cap,
    });
    for (const r of rows) {
      const filtered = r.body !== null && !passesFilters(q.filters, r.category, r.meta, r.editedAt, q.now);
      if (filtered || q.held?.has(r.seq)) {
        cursor = r.seq;
        continue;
      }
      const change = asChange(r, q);
      const size = change[4]?.length ?? 0;
      const framed = size + r.recordId.length + CHANGE_OVERHEAD + (change[5] ? META_OVERHEAD : 0);
      const first = changes.length === 0 && !q.strict;
      if (!first && (bodies + size > q.maxBytes || wire + framed > q.maxMessageBytes)) {
        more = true;
        break fill;
      }
      changes.push(change);
      bodies += size;
      wire += framed;
      cursor = r.seq;
    }
    const read = rows.reduce((n, r) => n + (r.body?.length ?? 0), 0);
    // Fewer rows than asked for, and not stopped by the cap: the range is read to its end.
    if (rows.length < CHUNK && read < cap) break;
  }
  return { kind: 'page', changes, next: more ? cursor : end, more, bytes: bodies };
}

/** [0043]: are there changes after `after` in these categories that pass the filters? */
export async function probe(
  store: SyncStore,
  q: {
    subscriber: string;
    categories: readonly Category[];
    filters?: Filters | undefined;
    after: number;
    now: number;
  },
): Promise<{ latest: number; pending: boolean }> {
  const latest = await store.latestSeq(q.subscriber);
  if (q.after >= latest || q.categories.length === 0) return { latest, pending: false };
  let cursor = q.after;
  for (;;) {
    const rows = await store.recordsAfter({
      ...q,
      after: cursor,
      upTo: latest,
      limit: CHUNK,
      maxBodyBytes: READ_FLOOR,
    });
    for (const r of rows) {
      if (r.body === null || passesFilters(q.filters, r.category, r.meta, r.editedAt, q.now)) {
        return { latest, pending: true };
      }
      cursor = r.seq;
    }
    const read = rows.reduce((n, r) => n + (r.body?.length ?? 0), 0);
    if (rows.length < CHUNK && read < READ_FLOOR) return { latest, pending: false };
  }
}
