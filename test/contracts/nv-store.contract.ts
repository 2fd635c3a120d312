import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NvStore } from '../../hal/index.js';

/** What a contract run needs: a fresh, empty store, and how to dispose of it. */
export interface NvStoreUnderTest {
  store: NvStore;
  cleanup?: () => Promise<void> | void;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (s: string) => new TextEncoder().encode(s);

/**
 * The shared NvStore contract (STYLE.md §12, like Aedes' abstract
 * persistence tests): every NvStore implementation runs it. `makeStore` must
 * return a new, empty store each time.
 */
export function describeNvStoreContract(name: string, makeStore: () => Promise<NvStoreUnderTest>): void {
  describe(`NvStore contract: ${name}`, () => {
    let store: NvStore;
    let cleanup: (() => Promise<void> | void) | undefined;

    beforeEach(async () => {
      const made = await makeStore();
      store = made.store;
      cleanup = made.cleanup;
    });

    afterEach(async () => {
      await cleanup?.();
    });

    it('get returns undefined for a key never written', async () => {
      expect(await store.get('missing')).toBeUndefined();
    });

    it('get returns what a commit put, byte for byte', async () => {
      await store.commit([{ op: 'put', key: 'a', value: bytes(0x00, 0xff, 0x10) }]);
      expect(await store.get('a')).toEqual(bytes(0x00, 0xff, 0x10));
    });

    it('stores an empty value as present, distinct from missing', async () => {
      await store.commit([{ op: 'put', key: 'empty', value: new Uint8Array(0) }]);
      expect(await store.get('empty')).toEqual(new Uint8Array(0));
    });

    it('a later put overwrites; a del removes; deleting a missing key is fine', async () => {
      await store.commit([{ op: 'put', key: 'k', value: text('one') }]);
      await store.commit([{ op: 'put', key: 'k', value: text('two') }]);
      expect(await store.get('k')).toEqual(text('two'));
      await store.commit([
        { op: 'del', key: 'k' },
        { op: 'del', key: 'never' },
      ]);
      expect(await store.get('k')).toBeUndefined();
    });

    it('within a batch, operations apply in order (last one on a key wins)', async () => {
      await store.commit([
        { op: 'put', key: 'x', value: text('1') },
        { op: 'del', key: 'x' },
        { op: 'put', key: 'y', value: text('1') },
        { op: 'put', key: 'y', value: text('2') },
      ]);
      expect(await store.get('x')).toBeUndefined();
      expect(await store.get('y')).toEqual(text('2'));
    });

    it('scan returns only keys with the prefix, sorted by UTF-16 code unit order', async () => {
      await store.commit([
        { op: 'put', key: 'rec/b', value: text('b') },
        { op: 'put', key: 'rec/a', value: text('a') },
        { op: 'put', key: 'rec/B', value: text('B') },
        { op: 'put', key: 'rec/é', value: text('e') },
        { op: 'put', key: 'rec/a0', value: text('a0') },
        { op: 'put', key: 'rec', value: text('bare') },
        { op: 'put', key: 're', value: text('short') },
        { op: 'put', key: 'other/a', value: text('o') },
      ]);
      const found = await store.scan('rec/');
      expect(found.map((e) => e.key)).toEqual(['rec/B', 'rec/a', 'rec/a0', 'rec/b', 'rec/é']);
      expect(found[1]?.value).toEqual(text('a'));
    });

    it('scan with an empty prefix returns everything; with no match returns []', async () => {
      await store.commit([
        { op: 'put', key: 'b', value: text('b') },
        { op: 'put', key: 'a', value: text('a') },
      ]);
      expect((await store.scan('')).map((e) => e.key)).toEqual(['a', 'b']);
      expect(await store.scan('zzz')).toEqual([]);
    });

    it('an empty batch resolves and changes nothing', async () => {
      await store.commit([{ op: 'put', key: 'k', value: text('v') }]);
      await store.commit([]);
      expect(await store.scan('')).toEqual([{ key: 'k', value: text('v') }]);
    });

    it('copies values in: mutating the array after commit does not change the store', async () => {
      const value = bytes(1, 2, 3);
      const batch = [{ op: 'put' as const, key: 'k', value }];
      await store.commit(batch);
      value[0] = 99;
      expect(await store.get('k')).toEqual(bytes(1, 2, 3));
    });

    it('copies values out: mutating what get or scan returned does not change the store', async () => {
      await store.commit([{ op: 'put', key: 'k', value: bytes(1, 2, 3) }]);
      const got = await store.get('k');
      got?.fill(0);
      const scanned = await store.scan('k');
      scanned[0]?.value.fill(0);
      expect(await store.get('k')).toEqual(bytes(1, 2, 3));
    });

    it('commits are visible in the order they resolved, also when issued concurrently', async () => {
      await Promise.all([
        store.commit([{ op: 'put', key: 'k', value: text('first') }]),
        store.commit([{ op: 'put', key: 'k', value: text('second') }]),
      ]);
      expect(await store.get('k')).toEqual(text('second'));
    });

    it('a batch of many keys becomes visible as a whole', async () => {
      const batch = Array.from({ length: 200 }, (_, i) => ({
        op: 'put' as const,
        key: `bulk/${String(i).padStart(3, '0')}`,
        value: text(`v${i}`),
      }));
      await store.commit(batch);
      const found = await store.scan('bulk/');
      expect(found).toHaveLength(200);
      expect(found[199]).toEqual({ key: 'bulk/199', value: text('v199') });
    });

    it('keys may hold any Unicode and values any byte', async () => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await store.commit([{ op: 'put', key: 'ключ/🔑/\u0000x', value: all }]);
      expect(await store.get('ключ/🔑/\u0000x')).toEqual(all);
    });
  });
}
