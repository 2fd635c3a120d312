import { describe, expect, it } from 'vitest';
import { SimNvStore } from '../../hal-sim/index.js';
import { describeNvStoreContract } from '../../test/contracts/nv-store.contract.js';
import { utf8 } from '../bytes.js';
import { SEAL_KEY, SealedNvStore } from './sealed-nv-store.js';

const newKey = () =>
  globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);

/** A sealed, open store where every key is sealed: it must keep the whole NvStore contract. */
describeNvStoreContract('SealedNvStore (every key sealed, open)', async () => {
  const store = await SealedNvStore.over(new SimNvStore(), { isSealedKey: (k) => k !== SEAL_KEY });
  await store.seal(await newKey(), [{ op: 'put', key: SEAL_KEY, value: utf8('seal') }]);
  // The contract expects an empty store: its one scan of '' must not see the seal's own entry.
  const scan = store.scan.bind(store);
  store.scan = async (prefix) => (await scan(prefix)).filter((e) => e.key !== SEAL_KEY);
  return { store };
});

describe('SealedNvStore: what the disk holds, and what a closed store does', () => {
  const body = utf8('BEGIN:VCARD\nFN:Ann Example\nTEL:+49 30 1234567\nEND:VCARD');

  async function sealedWith(entries: Record<string, Uint8Array>) {
    const disk = new SimNvStore();
    await disk.commit(Object.entries(entries).map(([key, value]) => ({ op: 'put' as const, key, value })));
    const store = await SealedNvStore.over(disk);
    const key = await newKey();
    const count = await store.seal(key, [{ op: 'put', key: SEAL_KEY, value: utf8('seal') }]);
    return { disk, store, key, count };
  }

  const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).includes(Buffer.from(needle));

  it('sealing a plain store re-encrypts every personal value in one commit; the rest stays as it was', async () => {
    const { disk, store, count } = await sealedWith({
      'r/contacts/ann': body,
      'a/contacts/bob': utf8('rejected: Bob Secret'),
      'p/archive/x': utf8('partial Ann'),
      'm/batch': utf8('batch with Ann'),
      'm/anchor': utf8('7'),
      'c/registration': utf8('reg'),
    });
    expect(count).toBe(4);
    for (const { key, value } of await disk.scan('')) {
      if (['m/anchor', 'c/registration', SEAL_KEY].includes(key)) continue;
      expect(contains(value, utf8('Ann')) || contains(value, utf8('Bob')), key).toBe(false);
    }
    expect(await disk.get('m/anchor')).toEqual(utf8('7'));
    expect(await store.get('r/contacts/ann')).toEqual(body);
    await store.commit([{ op: 'put', key: 'r/contacts/cy', value: utf8('Cy Example') }]);
    expect(contains((await disk.get('r/contacts/cy')) as Uint8Array, utf8('Cy'))).toBe(false);
  });

  it('closed, reads and writes of personal keys are refused and change nothing; deletes and the rest go on', async () => {
    const { disk, store } = await sealedWith({ 'r/contacts/ann': body });
    store.lock();
    const before = await disk.scan('');
    for (const attempt of [
      () => store.get('r/contacts/ann'),
      () => store.scan('r/'),
      () => store.commit([{ op: 'put', key: 'r/contacts/cy', value: utf8('Cy') }]),
      () =>
        store.commit([
          { op: 'put', key: 'm/anchor', value: utf8('9') },
          { op: 'put', key: 'r/contacts/cy', value: utf8('Cy') },
        ]),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ name: 'HalError', kind: 'device-unavailable' });
    }
    expect(await disk.scan('')).toEqual(before);
    await store.commit([{ op: 'put', key: 'm/anchor', value: utf8('9') }]);
    expect(await store.get('m/anchor')).toEqual(utf8('9'));
    await store.commit([{ op: 'del', key: 'r/contacts/ann' }]);
    expect(await disk.get('r/contacts/ann')).toBeUndefined();
  });

  it("another data key, a flipped bit, or a value moved to another key is 'store-corrupt', never wrong bytes", async () => {
    const { disk, store } = await sealedWith({ 'r/contacts/ann': body, 'r/contacts/bob': utf8('Bob') });
    const sealed = (await disk.get('r/contacts/ann')) as Uint8Array;
    await disk.commit([{ op: 'put', key: 'r/contacts/bob', value: sealed }]);
    await expect(store.get('r/contacts/bob')).rejects.toMatchObject({ kind: 'store-corrupt' });
    for (const at of [0, 1, 5, 20, sealed.length - 1]) {
      const flipped = sealed.slice();
      flipped[at] = (flipped[at] ?? 0) ^ 0x10;
      await disk.commit([{ op: 'put', key: 'r/contacts/ann', value: flipped }]);
      await expect(store.get('r/contacts/ann')).rejects.toMatchObject({ kind: 'store-corrupt' });
    }
    await disk.commit([{ op: 'put', key: 'r/contacts/ann', value: sealed }]);
    store.unlock(await newKey());
    await expect(store.get('r/contacts/ann')).rejects.toMatchObject({ kind: 'store-corrupt' });
  });

  it('a factory erase (the seal deleted) leaves a plain store behind', async () => {
    const { disk, store } = await sealedWith({ 'r/contacts/ann': body });
    await store.commit([
      { op: 'del', key: 'r/contacts/ann' },
      { op: 'del', key: SEAL_KEY },
    ]);
    expect(store.sealed).toBe(false);
    expect(store.open).toBe(false);
    await store.commit([{ op: 'put', key: 'r/contacts/new', value: utf8('plain') }]);
    expect(await disk.get('r/contacts/new')).toEqual(utf8('plain'));
  });

  it('reopened over the same disk, it knows it is sealed and stays closed until unlocked', async () => {
    const { disk, key } = await sealedWith({ 'r/contacts/ann': body });
    const again = await SealedNvStore.over(disk);
    expect(again.sealed).toBe(true);
    await expect(again.get('r/contacts/ann')).rejects.toMatchObject({ kind: 'device-unavailable' });
    again.unlock(key);
    expect(await again.get('r/contacts/ann')).toEqual(body);
  });
});
