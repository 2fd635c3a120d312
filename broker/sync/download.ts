import { type Category, categoryCode, type WireChange } from '../../core/protocol/index.js';
import type { SyncStore } from '../store/sync-store.js';

export interface DownloadQuery {
  subscriber: string;
  categories: readonly Category[];
  after: number;
  /** Bytes of bodies the terminal accepts in one page (at least one change is always sent). */
  maxBytes: number;
  /** Bytes the encoded page may take on the wire, bodies and framing together. */
  maxMessageBytes: number;
}

export type DownloadPage =
  | { kind: 'page'; changes: WireChange[]; next: number; more: boolean; bytes: number }
  | { kind: 'out-of-order'; latest: number };

/** Rows fetched per store call while filling a page. */
const CHUNK = 256;
/** CBOR framing of one change beyond its id and body, rounded up. */
const CHANGE_OVERHEAD = 40;

/**
 * Downloads move only differences (DESIGN.md "Sync model"): the current state
 * of each record changed after the anchor, once, in seq order, filtered by the
 * terminal's categories. `next` is the last seq sent, or, once nothing more
 * matches, the subscriber's latest seq, so the anchor also moves past changes
 * filtered out.
 */
export async function downloadPage(store: SyncStore, q: DownloadQuery): Promise<DownloadPage> {
  // Read the latest seq first and never look past it: a change committed while
  // this page is filled gets a seq above it and is found by the next download.
  const latest = await store.latestSeq(q.subscriber);
  if (q.after > latest) return { kind: 'out-of-order', latest };

  const changes: WireChange[] = [];
  let bodies = 0;
  let wire = 0;
  let cursor = q.after;
  let more = false;

  fill: for (;;) {
    const rows = await store.recordsAfter({
      subscriber: q.subscriber,
      after: cursor,
      upTo: latest,
      categories: q.categories,
      limit: CHUNK,
    });
    for (const r of rows) {
      const size = r.body?.length ?? 0;
      const framed = size + r.recordId.length + CHANGE_OVERHEAD;
      if (changes.length > 0 && (bodies + size > q.maxBytes || wire + framed > q.maxMessageBytes)) {
        more = true;
        break fill;
      }
      changes.push([categoryCode(r.category), r.recordId, r.seq, r.editedAt, r.body]);
      bodies += size;
      wire += framed;
      cursor = r.seq;
    }
    if (rows.length < CHUNK) break;
  }

  const last = changes[changes.length - 1];
  return { kind: 'page', changes, next: more && last ? last[2] : latest, more, bytes: bodies };
}

/** [0043]: are there changes after `after` in these categories? */
export async function probe(
  store: SyncStore,
  subscriber: string,
  categories: readonly Category[],
  after: number,
): Promise<{ latest: number; pending: boolean }> {
  const latest = await store.latestSeq(subscriber);
  if (after >= latest || categories.length === 0) return { latest, pending: false };
  const rows = await store.recordsAfter({ subscriber, after, upTo: latest, categories, limit: 1 });
  return { latest, pending: rows.length > 0 };
}
