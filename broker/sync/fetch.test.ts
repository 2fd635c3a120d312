import { describe, expect, it } from 'vitest';
import type { FetchRequest } from '../../core/protocol/index.js';
import type { StoredRecord, SyncStore, TerminalRow } from '../store/sync-store.js';
import { fetchSubstance, SubstanceCache } from './fetch.js';

const SUBSCRIBER = '001010000000102';
const terminal = { categories: ['archive'] } as unknown as TerminalRow;

/** One subscriber's records as a store holds them, counting whole-body reads (SQLite's substr() is one). */
class Records {
  latest = 0;
  bodyReads = 0;
  private readonly records = new Map<string, StoredRecord>();

  put(id: string, body: Uint8Array): number {
    const seq = ++this.latest;
    this.records.set(id, { category: 'archive', recordId: id, body, seq, origin: 't', editedAt: 0 });
    return seq;
  }

  store(): SyncStore {
    return {
      latestSeq: async () => this.latest,
      getRecord: async (_s: string, _c: string, id: string) => {
        this.bodyReads++;
        return this.records.get(id);
      },
      getBodyRange: async (_s: string, _c: string, id: string, offset: number, length: number) => {
        const r = this.records.get(id);
        if (r?.body == null) return undefined;
        this.bodyReads++;
        return { seq: r.seq, size: r.body.length, bytes: r.body.slice(offset, offset + length) };
      },
    } as unknown as SyncStore;
  }
}

const fetch = (id: string, seq: number, offset: number, length: number): FetchRequest => ({
  type: 'fetch',
  req: 1,
  subscriber: SUBSCRIBER,
  category: 'archive',
  id,
  seq,
  offset,
  length,
});

const body = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

describe('[0094] the fetch handler serves chunks of a body read once (issue 20)', () => {
  it('serves every chunk of a large body from one read of it, byte for byte', async () => {
    const records = new Records();
    const photo = body(10_000);
    const seq = records.put('p', photo);
    const cache = new SubstanceCache();
    const parts: Uint8Array[] = [];
    for (let offset = 0; offset < photo.length; offset += 1000) {
      const out = await fetchSubstance(records.store(), terminal, fetch('p', seq, offset, 1000), 4096, cache);
      if (out.kind !== 'part') throw new Error(out.reason);
      expect(out.substance).toMatchObject({ seq, offset, size: photo.length });
      parts.push(out.substance.bytes);
    }
    expect(Buffer.concat(parts).equals(Buffer.from(photo))).toBe(true);
    // The first chunk's range, then the body whole once; the last chunk lets it go.
    expect(records.bodyReads).toBe(2);
    expect(cache.size).toEqual({ bodies: 0, bytes: 0 });
  });

  it('a change of any record of the subscriber after the body was read is seen: a new version of it answers gone', async () => {
    const records = new Records();
    const seq = records.put('p', body(5000));
    const cache = new SubstanceCache();
    const store = records.store();
    expect((await fetchSubstance(store, terminal, fetch('p', seq, 0, 1000), 4096, cache)).kind).toBe('part');
    records.put('p', body(6000));
    const out = await fetchSubstance(store, terminal, fetch('p', seq, 1000, 1000), 4096, cache);
    expect(out.kind).toBe('gone');

    // Another record changed: the body is read again, and still served if its version stands.
    const other = new Records();
    const seq2 = other.put('q', body(5000));
    await fetchSubstance(other.store(), terminal, fetch('q', seq2, 0, 1000), 4096, cache);
    other.put('unrelated', body(10));
    const reads = other.bodyReads;
    const again = await fetchSubstance(other.store(), terminal, fetch('q', seq2, 1000, 1000), 4096, cache);
    expect(again.kind).toBe('part');
    expect(other.bodyReads).toBeGreaterThan(reads);
  });

  it('holds at most its byte bound, the least recently used body let go first', async () => {
    const records = new Records();
    const cache = new SubstanceCache(12_000);
    const seqs = ['a', 'b', 'c'].map((id) => records.put(id, body(5000)));
    for (const [i, id] of ['a', 'b', 'c'].entries())
      await fetchSubstance(records.store(), terminal, fetch(id, seqs[i] as number, 0, 1000), 4096, cache);
    expect(cache.size).toEqual({ bodies: 2, bytes: 10_000 });
  });
});
