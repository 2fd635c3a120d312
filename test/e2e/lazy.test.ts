import { describe, expect, it } from 'vitest';
import { utf8 } from '../../core/index.js';
import { photoBytes } from '../support/photo.js';
import { DroppingLink, member, sceneEachTest, syncWithSim, withSim } from './scene.js';
import { IMSI } from './world.js';

const s = sceneEachTest();

/** A photo (already compressed data: nothing for the protocol's deflate to take). */
const photo = photoBytes(200_000);

describe('[0094]: lazy download of large items', () => {
  it('a large archive item comes down as a stub (id, title, size, hash); opening it fetches and verifies the substance', async () => {
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      await b.terminal.edit('archive', 'beach.jpg', photo, { title: 'Beach' });
      await b.terminal.edit('archive', 'thumb', utf8('small'));
      await b.terminal.edit('contacts', 'c1', new Uint8Array(100_000));
    });
    await syncWithSim(s, b);
    const a = await member(s, 'a', { options: { lazy: { aboveBytes: 16_384, chunkBytes: 32_768 } } });
    a.reader.insert(s.sim);
    const report = await a.terminal.sync();
    expect(report.downBytes).toBe(100_000 + 5);
    const stub = await a.terminal.records.get('archive', 'beach.jpg');
    expect(stub).toMatchObject({
      body: new Uint8Array(0),
      meta: { title: 'Beach' },
      stub: { size: 200_000 },
    });
    expect(stub?.stub?.hash).toHaveLength(32);
    expect((await a.terminal.records.get('archive', 'thumb'))?.stub).toBeUndefined();
    const opened = await a.terminal.open('archive', 'beach.jpg');
    expect(opened?.body).toEqual(photo);
    expect(opened?.stub).toBeUndefined();
    expect(await a.nv.scan('q/')).toEqual([]);
  });

  it('a fetch cut by a link drop resumes where it stopped, fetching each byte once', async () => {
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      await b.terminal.edit('archive', 'song.mp3', photo);
    });
    await syncWithSim(s, b);
    const link = new DroppingLink(s.world.link());
    const a = await member(s, 'a', { link, options: { lazy: { aboveBytes: 1024, chunkBytes: 20_000 } } });
    a.reader.insert(s.sim);
    await a.terminal.sync();
    link.dropAfter(90_000);
    await expect(a.terminal.open('archive', 'song.mp3')).rejects.toMatchObject({ kind: 'link-down' });
    const progress = await a.nv.scan('p/');
    expect(progress).toHaveLength(1);
    const partial = (await a.nv.scan('q/')).reduce((n, e) => n + e.value.length, 0);
    expect(partial).toBeGreaterThanOrEqual(60_000);
    expect(partial).toBeLessThan(200_000);

    const opened = await a.terminal.open('archive', 'song.mp3');
    expect(opened?.body).toEqual(photo);
    const fetched = (await s.world.server.store.history(IMSI))
      .filter((e) => e.action === 'fetch' && e.terminalId === a.terminal.terminalId)
      .reduce((n, e) => n + e.downloadedBytes, 0);
    // Every chunk was served once, except at most the one the drop cut.
    expect(fetched).toBeLessThanOrEqual(200_000 + 20_000);
    expect(await a.nv.scan('p/')).toEqual([]);
  });

  it('a substance that does not match its hash is refused and nothing is kept', async () => {
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      await b.terminal.edit('archive', 'x', photo);
    });
    await syncWithSim(s, b);
    const a = await member(s, 'a', { options: { lazy: { aboveBytes: 1024 } } });
    a.reader.insert(s.sim);
    await a.terminal.sync();
    // The stub's hash is tampered with in NV (as flash corruption would).
    const held = await a.terminal.records.get('archive', 'x');
    const { encode } = await import('cborg');
    const hash = new Uint8Array(32);
    await a.nv.commit([
      {
        op: 'put',
        key: 'r/archive/x',
        value: encode({ b: new Uint8Array(0), s: held?.base, t: held?.editedAt, z: { size: 200_000, hash } }),
      },
    ]);
    await expect(a.terminal.open('archive', 'x')).rejects.toMatchObject({ kind: 'protocol' });
    expect(await a.nv.scan('q/')).toEqual([]);
    expect((await a.terminal.records.get('archive', 'x'))?.stub).toBeDefined();
  });
});
