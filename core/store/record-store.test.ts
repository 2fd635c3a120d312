import { decode, encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import { SimNvStore, VirtualClock } from '../../hal-sim/index.js';
import { utf8 } from '../bytes.js';
import { type PendingBatch, RecordStore } from './record-store.js';

function setup() {
  const nv = new SimNvStore();
  const clock = new VirtualClock();
  return { nv, clock, store: new RecordStore(nv, clock) };
}

describe('record store (personal information storage area 6a)', () => {
  it('FIG. 6: keeps records by category and marks local edits dirty', async () => {
    const { store } = setup();
    await store.put('contacts', 'alice', utf8('Alice'));
    await store.put('mail', 'm1', utf8('hi'));
    expect((await store.list('contacts')).map((r) => r.id)).toEqual(['alice']);
    expect((await store.dirty(['contacts', 'mail'])).map((r) => r.id)).toEqual(['alice', 'm1']);
    expect((await store.dirty(['mail'])).map((r) => r.id)).toEqual(['m1']);
  });

  it('[0060]: deleting a synced record keeps a dirty tombstone; an unsynced one is simply forgotten', async () => {
    const { store } = setup();
    await store.applyDownload(
      [{ category: 'contacts', id: 'bob', seq: 4, editedAt: 1, body: utf8('Bob') }],
      4,
    );
    await store.put('contacts', 'new', utf8('x'));
    expect(await store.remove('contacts', 'bob')).toBe(true);
    expect(await store.remove('contacts', 'new')).toBe(true);
    expect(await store.remove('contacts', 'nobody')).toBe(false);
    const dirty = await store.dirty(['contacts']);
    expect(dirty).toEqual([expect.objectContaining({ id: 'bob', body: null, base: 4 })]);
    expect(await store.list('contacts')).toEqual([]);
  });

  it('[0060]: a new record deleted while a batch carrying it is in flight keeps a dirty tombstone (the server may hold it)', async () => {
    const { store } = setup();
    await store.put('contacts', 'sent', utf8('x'));
    // Power or the link failed after the batch left: its acknowledgement never came.
    await store.beginBatch(await store.dirty(['contacts']));
    expect(await store.remove('contacts', 'sent')).toBe(true);
    expect(await store.dirty(['contacts'])).toEqual([
      expect.objectContaining({ id: 'sent', body: null, base: 0 }),
    ]);
    expect(await store.list('contacts')).toEqual([]);
  });

  it('clears dirty flags in the same commit that records the acknowledgement', async () => {
    const { store, nv } = setup();
    await store.put('contacts', 'a', utf8('A'));
    const batch = await store.beginBatch(await store.dirty(['contacts']));
    const commitsBefore = nv.stats().commits;
    await store.settleBatch(batch, [{ kind: 'applied', seq: 9 }], 9);
    expect(nv.stats().commits).toBe(commitsBefore + 1);
    expect(await store.dirty(['contacts'])).toEqual([]);
    expect(await store.get('contacts', 'a')).toMatchObject({ base: 9, dirty: false });
    expect(await store.anchor()).toBe(9);
    expect(await store.pendingBatch()).toBeUndefined();
  });

  it('an acknowledgement moves only the base (s/); the record itself is not rewritten', async () => {
    const { store, nv } = setup();
    await store.put('contacts', 'a', utf8('A'));
    const record = await nv.get('r/contacts/a');
    await store.settleBatch(await store.beginBatch(await store.dirty(['contacts'])), [
      { kind: 'applied', seq: 9 },
    ]);
    expect(await nv.get('r/contacts/a')).toEqual(record);
    expect((await store.list('contacts')).map((r) => r.base)).toEqual([9]);
    await store.put('contacts', 'a', utf8('A2'));
    expect(await store.get('contacts', 'a')).toMatchObject({ base: 9, dirty: true });
    await store.applyDownload([{ category: 'contacts', id: 'b', seq: 10, editedAt: 1, body: utf8('B') }], 10);
    expect(await store.get('contacts', 'b')).toMatchObject({ base: 10, dirty: false });
    await store.applyDownload([{ category: 'contacts', id: 'b', seq: 11, editedAt: 2, body: null }], 11);
    expect(await nv.get('s/contacts/b')).toBeUndefined();
    await store.erase(['contacts']);
    expect(await nv.scan('s/')).toEqual([]);
  });

  it('a record edited again while its batch was in flight stays dirty, on the acknowledged base', async () => {
    const { store, clock } = setup();
    await store.put('contacts', 'a', utf8('v1'));
    const batch = await store.beginBatch(await store.dirty(['contacts']));
    await clock.advance(1000);
    await store.put('contacts', 'a', utf8('v2'));
    await store.settleBatch(batch, [{ kind: 'applied', seq: 3 }]);
    expect(await store.get('contacts', 'a')).toMatchObject({ base: 3, dirty: true });
  });

  it('[0068]: a lost conflict takes the winner; a rejected change is set aside, not lost', async () => {
    const { store } = setup();
    await store.put('contacts', 'a', utf8('mine'));
    await store.put('contacts', 'b', utf8('too big'));
    const batch = await store.beginBatch(await store.dirty(['contacts']));
    await store.settleBatch(batch, [
      { kind: 'lost', winner: { category: 'contacts', id: 'a', seq: 7, editedAt: 5, body: utf8('theirs') } },
      { kind: 'set-aside', reason: 'record too large' },
    ]);
    expect(await store.get('contacts', 'a')).toMatchObject({ body: utf8('theirs'), base: 7, dirty: false });
    expect(await store.get('contacts', 'b')).toMatchObject({ body: utf8('too big'), dirty: false });
    expect(await store.setAside()).toEqual([{ category: 'contacts', id: 'b', reason: 'record too large' }]);
    await store.put('contacts', 'b', utf8('fixed'));
    expect(await store.setAside()).toEqual([]);
    expect((await store.dirty(['contacts'])).map((r) => r.id)).toEqual(['b']);
  });

  it('a download never overwrites an unacknowledged local edit, and skips versions already held', async () => {
    const { store } = setup();
    await store.applyDownload([{ category: 'pim', id: 'e', seq: 2, editedAt: 1, body: utf8('old') }], 2);
    await store.put('pim', 'e', utf8('local'));
    const applied = await store.applyDownload(
      [
        { category: 'pim', id: 'e', seq: 5, editedAt: 3, body: utf8('remote') },
        { category: 'pim', id: 'f', seq: 6, editedAt: 3, body: utf8('F') },
      ],
      6,
    );
    expect(applied.map((c) => c.id)).toEqual(['f']);
    expect(await store.get('pim', 'e')).toMatchObject({ body: utf8('local'), dirty: true, base: 2 });
    const again = await store.applyDownload(
      [{ category: 'pim', id: 'f', seq: 6, editedAt: 3, body: utf8('F') }],
      6,
    );
    expect(again).toEqual([]);
  });

  it('a power cut during a download page leaves neither the page nor its anchor', async () => {
    const { store, nv } = setup();
    nv.cutPowerAtCommit(1, { tornAfterOps: 1 });
    await expect(
      store.applyDownload(
        [
          { category: 'contacts', id: 'x', seq: 1, editedAt: 1, body: utf8('X') },
          { category: 'contacts', id: 'y', seq: 2, editedAt: 1, body: utf8('Y') },
        ],
        2,
      ),
    ).rejects.toMatchObject({ kind: 'power-lost' });
    nv.powerOn();
    expect(await store.anchor()).toBe(0);
    expect(await store.list('contacts')).toEqual([]);
  });

  it('FIG. 20 S86: erase removes the chosen categories only', async () => {
    const { store } = setup();
    await store.put('contacts', 'a', utf8('A'));
    await store.put('mail', 'm', utf8('M'));
    expect(await store.erase(['contacts'])).toBe(1);
    expect(await store.list('contacts')).toEqual([]);
    expect((await store.list('mail')).length).toBe(1);
  });

  it('the batch record is one row per record, and ids stay fresh after it settles', async () => {
    const { store, nv } = setup();
    await store.put('contacts', 'a', utf8('A'));
    await store.put('mail', 'm1', utf8('M'));
    const batch = await store.beginBatch(await store.dirty(['contacts', 'mail']));
    const [a, m1] = batch.items;
    expect(decode((await nv.get('m/batch')) as Uint8Array)).toEqual([
      batch.id,
      ['contacts', 'a', a?.editedAt],
      ['mail', 'm1', m1?.editedAt],
    ]);
    expect(await store.pendingBatch()).toEqual(batch);
    await store.settleBatch(batch, [
      { kind: 'applied', seq: 1 },
      { kind: 'applied', seq: 2 },
    ]);
    await store.put('contacts', 'a', utf8('A2'));
    expect((await store.beginBatch(await store.dirty(['contacts']))).id).toBe(batch.id + 1);
  });

  it('a batch left in flight by an earlier version (its map form) still reads and settles', async () => {
    const { store, nv } = setup();
    const edited = await store.put('contacts', 'a', utf8('A'));
    // What beginBatch wrote before the row form: { id, items: [{ category, id, editedAt }] }.
    const old = { id: 7, items: [{ category: 'contacts', id: 'a', editedAt: edited.editedAt }] };
    await nv.commit([
      { op: 'put', key: 'm/batch-id', value: encode(7) },
      { op: 'put', key: 'm/batch', value: encode(old) },
    ]);
    const pending = await store.pendingBatch();
    expect(pending).toEqual(old);
    await store.settleBatch(pending as PendingBatch, [{ kind: 'applied', seq: 3 }], 3);
    expect(await store.get('contacts', 'a')).toMatchObject({ base: 3, dirty: false });
    expect(await store.pendingBatch()).toBeUndefined();
    await store.put('contacts', 'a', utf8('A2'));
    expect((await store.beginBatch(await store.dirty(['contacts']))).id).toBe(8);
  });
});
