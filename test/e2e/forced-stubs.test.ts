import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ByteStream } from '../../hal/index.js';
import { MIB, photoBytes } from '../support/photo.js';
import { type Member, member, sceneEachTest, syncWithSim, WrappedLink, withSim } from './scene.js';
import { IMSI } from './world.js';

const s = sceneEachTest();

/** A body as its length and SHA-256: quick to compare, and short when a test fails. */
const digest = (b: Uint8Array | null | undefined) =>
  b ? `${b.length} bytes, sha256 ${createHash('sha256').update(b).digest('hex')}` : b;

/** Terminal A puts these records and syncs: a body above 1 MiB goes up in parts (upload-chunks.test.ts). */
async function uploadedByA(records: { category: 'contacts' | 'archive'; id: string; body: Uint8Array }[]) {
  const a = await member(s, 'a');
  await withSim(s, a, async () => {
    for (const r of records) await a.terminal.edit(r.category, r.id, r.body, { title: r.id });
  });
  const report = await syncWithSim(s, a);
  expect(report.uploaded).toHaveLength(records.length);
}

/** Substance bytes the server served a terminal by fetch ([0094]), from its audit lines. */
async function fetchedBy(t: Member): Promise<number> {
  return (await s.world.server.store.history(IMSI, 100_000))
    .filter((e) => e.action === 'fetch' && e.terminalId === t.terminal.terminalId)
    .reduce((n, e) => n + e.downloadedBytes, 0);
}

/**
 * A radio link that breaks once the terminal has received `bytes` more,
 * on whichever stream they arrive (a sync may open a stream of its own).
 */
class ReceiveCut extends WrappedLink {
  private left = Number.POSITIVE_INFINITY;

  async open(): Promise<ByteStream> {
    const stream = await this.inner.open();
    return {
      write: (bytes) => stream.write(bytes),
      onData: (listener) =>
        stream.onData((bytes) => {
          if (this.left <= 0) return;
          this.left -= bytes.length;
          listener(bytes);
          if (this.left <= 0) stream.close();
        }),
      onClose: (listener) => stream.onClose(listener),
      close: () => stream.close(),
    };
  }

  cutAfter(bytes: number): void {
    this.left = bytes;
  }

  heal(): void {
    this.left = Number.POSITIVE_INFINITY;
  }
}

/** A contact as an export reads it: from the listing, never opened. */
async function listed(t: Member, id: string) {
  t.reader.insert(s.sim);
  try {
    const all = await (await t.terminal.personalData('read')).list('contacts');
    return all.find((r) => r.id === id);
  } finally {
    t.reader.remove();
  }
}

describe('[0094] a body too large for any download page comes down whole unless the terminal chose lazy download', () => {
  it('[0094]: a 5 MiB photo from another terminal arrives whole in one sync on a terminal without lazy settings, before anyone opens it', async () => {
    const ann = photoBytes(5 * MIB);
    await uploadedByA([{ category: 'contacts', id: 'ann', body: ann }]);

    const b = await member(s, 'b');
    const report = await syncWithSim(s, b);
    expect(report.complete).toBe(true);
    const record = await b.terminal.records.get('contacts', 'ann');
    expect(record?.stub).toBeUndefined();
    expect(record?.meta).toEqual({ title: 'ann' });
    expect(digest(record?.body)).toBe(digest(ann));
    // The listing an export (ls, export-vcard) reads holds it whole too.
    expect(digest((await listed(b, 'ann'))?.body)).toBe(digest(ann));
    // Fetched in chunks, each byte once, and counted as downloaded data.
    expect(await fetchedBy(b)).toBe(ann.length);
    expect(report.downBytes).toBe(ann.length);
    // Nothing of the fetch is left behind in NV.
    expect(await b.nv.scan('p/')).toEqual([]);
    expect(await b.nv.scan('q/')).toEqual([]);
  });

  it('[0085]: under a download limit smaller than the body, it arrives whole over several syncs, each within the limit and each byte fetched once', async () => {
    const ann = photoBytes(5 * MIB, 1);
    await uploadedByA([{ category: 'contacts', id: 'ann', body: ann }]);
    const b = await member(s, 'b');

    // The substance comes in chunks of 1 MiB at most (and never past what the limit leaves).
    const limit = 2 * MIB + 1000;
    const reports = [];
    b.reader.insert(s.sim);
    for (let i = 0; i < 5; i++) {
      const report = await b.terminal.sync('user', { limits: { downBytes: limit } });
      reports.push(report);
      if (report.complete) break;
      // Between syncs it is a stub, its fetch under way: what came so far is kept in NV.
      const held = await b.terminal.records.get('contacts', 'ann');
      expect(held?.stub?.size).toBe(ann.length);
      expect((await b.nv.scan('p/')).length).toBe(1);
    }
    b.reader.remove();
    expect(reports.map((r) => r.downBytes)).toEqual([limit, limit, ann.length - 2 * limit]);
    expect(reports.map((r) => r.stoppedBy)).toEqual(['down-bytes', 'down-bytes', undefined]);
    const record = await b.terminal.records.get('contacts', 'ann');
    expect(record?.stub).toBeUndefined();
    expect(digest(record?.body)).toBe(digest(ann));
    expect(await fetchedBy(b)).toBe(ann.length);
    expect(await b.nv.scan('q/')).toEqual([]);
  });

  it('[0094]: a link cut in the middle of the fetch fails that sync; the next one resumes where it stopped, fetching each byte once', async () => {
    const ann = photoBytes(5 * MIB, 4);
    await uploadedByA([{ category: 'contacts', id: 'ann', body: ann }]);
    const link = new ReceiveCut(s.world.link());
    const b = await member(s, 'b', { link });

    link.cutAfter(2.5 * MIB);
    await expect(syncWithSim(s, b)).rejects.toMatchObject({ kind: 'link-down' });
    link.heal();
    expect((await b.terminal.records.get('contacts', 'ann'))?.stub?.size).toBe(ann.length);
    const kept = (await b.nv.scan('q/')).reduce((n, e) => n + e.value.length, 0);
    expect(kept).toBeGreaterThanOrEqual(MIB);

    const report = await syncWithSim(s, b);
    expect(report.downBytes).toBe(ann.length - kept);
    expect(digest((await listed(b, 'ann'))?.body)).toBe(digest(ann));
    // Every chunk was served once, except at most the one the cut tore (1 MiB).
    expect(await fetchedBy(b)).toBeLessThanOrEqual(ann.length + MIB);
    expect(await b.nv.scan('p/')).toEqual([]);
  });

  it('[0094]: a terminal that chose lazy download for the archive keeps the archive item a stub until opened, while the contact it did not choose lazy for arrives whole', async () => {
    const ann = photoBytes(5 * MIB, 2);
    const film = photoBytes(5 * MIB, 3);
    await uploadedByA([
      { category: 'contacts', id: 'ann', body: ann },
      { category: 'archive', id: 'film', body: film },
    ]);
    const b = await member(s, 'b', { options: { lazy: { aboveBytes: 16_384 } } });

    await syncWithSim(s, b);
    await syncWithSim(s, b);
    expect(digest((await listed(b, 'ann'))?.body)).toBe(digest(ann));
    const stub = await b.terminal.records.get('archive', 'film');
    expect(stub).toMatchObject({
      body: new Uint8Array(0),
      meta: { title: 'film' },
      stub: { size: film.length },
    });
    expect(await fetchedBy(b)).toBe(ann.length);

    b.reader.insert(s.sim);
    const opened = await b.terminal.open('archive', 'film');
    b.reader.remove();
    expect(opened?.stub).toBeUndefined();
    expect(digest(opened?.body)).toBe(digest(film));
    expect(await fetchedBy(b)).toBe(ann.length + film.length);
  });
});
