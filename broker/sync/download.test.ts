import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { RecordQuery, SyncStore } from '../store/sync-store.js';
import { type DownloadQuery, downloadPage } from './download.js';

const X = '001010000000102';
const KIB = 1024;

/** The store, with every body recordsAfter hands out counted. */
function counting(store: SyncStore): { store: SyncStore; read: () => number } {
  let read = 0;
  const recordsAfter = async (q: RecordQuery) => {
    const rows = await store.recordsAfter(q);
    read += rows.reduce((n, r) => n + (r.body?.length ?? 0), 0);
    return rows;
  };
  return { store: Object.assign(Object.create(store), { recordsAfter }) as SyncStore, read: () => read };
}

async function seed(store: SyncStore, sizes: readonly number[]): Promise<void> {
  await store.transaction((tx) =>
    tx.putSubscriber({ subscriber: X, iccid: null, loginPasswordHash: null, createdAt: 1 }),
  );
  await store.transaction(async (tx) => {
    for (const [i, size] of sizes.entries()) {
      const body = new Uint8Array(size).fill(i % 251);
      await tx.putRecord(X, { category: 'archive', recordId: `p${i}`, body, origin: 't', editedAt: i }, i);
    }
  });
}

/** Every page from the start, as a terminal asks for them. */
async function pages(store: SyncStore, q: Partial<DownloadQuery>) {
  const got: { ids: string[]; more: boolean }[] = [];
  let after = 0;
  for (let more = true; more; ) {
    const page = await downloadPage(store, {
      subscriber: X,
      categories: ['archive'],
      after,
      maxBytes: 256 * KIB,
      maxMessageBytes: 4 * 1024 * KIB,
      now: 0,
      ...q,
    });
    if (page.kind !== 'page') throw new Error('out of order');
    got.push({ ids: page.changes.map((c) => c[1]), more: page.more });
    after = page.next;
    more = page.more;
  }
  return got;
}

describe('issue 20: a download page reads the bodies it sends, not every one after them', () => {
  let base: SyncStore;
  beforeEach(() => {
    base = openSqliteStore(':memory:');
  });
  afterEach(() => base.close());

  it('20 photos of 1 MB in 256 KiB pages: one a page, each body read once', async () => {
    await seed(
      base,
      Array.from({ length: 20 }, () => 1_000_000),
    );
    const { store, read } = counting(base);
    const got = await pages(store, {});
    // One photo a page; the last page may be an empty one that only moves the anchor.
    expect(got.flatMap((p) => p.ids)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    expect(got.filter((p) => p.ids.length > 0).every((p) => p.ids.length === 1)).toBe(true);
    expect(got.at(-1)?.more).toBe(false);
    // Before: each page read the next 256 rows whole, ~210 MB for these 20 MB.
    expect(read()).toBe(20_000_000);
  });

  it('small bodies still fill a page to its byte limit, reading at most 16 KiB past it', async () => {
    await seed(
      base,
      Array.from({ length: 2000 }, () => 500),
    );
    const { store, read } = counting(base);
    const got = await pages(store, {});
    const sizes = got.map((p) => p.ids.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000);
    // 256 KiB of 500 B bodies: 524 a page (the 525th would pass the limit).
    expect(sizes.slice(0, -1).every((n) => n === 524)).toBe(true);
    expect(read()).toBeGreaterThanOrEqual(2000 * 500);
    expect(read()).toBeLessThanOrEqual(2000 * 500 + got.length * (16 * KIB + 500));
  });

  it('lazy stubs (bodies above 64 KiB) all fit one page, each body read once for its hash', async () => {
    await seed(base, [100, 2_000_000, 300, 1_500_000, 200_000]);
    const { store, read } = counting(base);
    const got = await pages(store, { stubs: { above: 64 * KIB, categories: ['archive'] } });
    expect(got[0]?.ids).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(got[0]?.more).toBe(false);
    expect(read()).toBe(100 + 2_000_000 + 300 + 1_500_000 + 200_000);
  });
});
