import { afterEach, describe, expect, it } from 'vitest';
import { type SyncServer, startSyncServer } from '../../broker/index.js';
import { KeyringAgent, memoryLink } from '../../cli/sim-world.js';
import { DEFAULT_BATCH_BYTES, fromUtf8, PART_WINDOW, partBytesOf, Terminal, utf8 } from '../../core/index.js';
import type { ByteStream } from '../../hal/index.js';
import { SimNvStore } from '../../hal-sim/index.js';
import { MIB, photoBytes } from '../support/photo.js';
import { TerminalRequests } from '../support/terminal-requests.js';
import {
  closeScene,
  KEYRING,
  member,
  type Scene,
  scene,
  sceneEachTest,
  syncWithSim,
  WrappedLink,
  withSim,
} from './scene.js';
import { IMSI, terminalData, userArea } from './world.js';

const s = sceneEachTest();
let small: SyncServer | undefined;
// Registered after the scene's hooks, so it runs before the scene closes.
afterEach(async () => {
  await small?.close();
  small = undefined;
});

/** Byte arrays compared as one string: vitest compares them element by element, slowly. */
const latin1 = (b: Uint8Array | null | undefined) => (b ? new TextDecoder('latin1').decode(b) : b);

/** The body of record `category/id` on the server. */
async function onServer(category: 'contacts' | 'pim', id: string): Promise<Uint8Array | null | undefined> {
  return (await s.world.server.store.getRecord(IMSI, category, id))?.body;
}

/** Bytes a terminal's parts brought to the server, by its audit lines ([0094] upload-part). */
async function partBytes(terminalId: string): Promise<{ parts: number; bytes: number }> {
  const lines = (await s.world.server.store.history(IMSI, 100_000)).filter(
    (e) => e.action === 'upload-part' && e.terminalId === terminalId,
  );
  return { parts: lines.length, bytes: lines.reduce((n, e) => n + e.uploadedBytes, 0) };
}

/** Why the server refused requests of this subscriber, in order (the audit log's refused lines). */
async function refusals(): Promise<(string | null)[]> {
  const lines = await s.world.server.store.history(IMSI, 100_000);
  return lines.filter((e) => e.outcome === 'refused').map((e) => e.reason);
}

/**
 * A radio link that counts the bytes the terminal writes, and can cut its
 * stream after some more of them: the write that crosses the mark goes out
 * only up to it, as when the radio drops in the middle of a packet.
 */
class CuttingLink extends WrappedLink {
  written = 0;
  private cutAt = Number.POSITIVE_INFINITY;

  async open(): Promise<ByteStream> {
    const stream = await this.inner.open();
    return {
      write: async (bytes) => {
        const keep = Math.min(bytes.length, this.cutAt - this.written);
        this.written += keep;
        if (keep === bytes.length) return stream.write(bytes);
        await stream.write(bytes.subarray(0, keep));
        stream.close();
      },
      onData: (listener) => stream.onData(listener),
      onClose: (listener) => stream.onClose(listener),
      close: () => stream.close(),
    };
  }

  /** The stream breaks once `bytes` more have been written. */
  cutAfter(bytes: number): void {
    this.cutAt = this.written + bytes;
  }

  heal(): void {
    this.cutAt = Number.POSITIVE_INFINITY;
  }
}

/** The parts a terminal at the default batch size sends (256 KiB). */
const PART_BYTES = partBytesOf(DEFAULT_BATCH_BYTES);

/**
 * Holds back what the server sends once the terminal has written its
 * `armAt`-th upload part, until it writes one more: a terminal that waits
 * for each part's ack before the next would wait for good.
 */
class AckHoldingLink extends WrappedLink {
  parts = 0;
  private readonly requests = new TerminalRequests();

  constructor(
    inner: ConstructorParameters<typeof WrappedLink>[0],
    private readonly armAt: number,
  ) {
    super(inner);
  }

  async open(): Promise<ByteStream> {
    const stream = await this.inner.open();
    const listeners = new Set<(bytes: Uint8Array) => void>();
    const held: Uint8Array[] = [];
    let holding = false;
    stream.onData((bytes) => {
      if (holding) held.push(bytes.slice());
      else for (const listener of listeners) listener(bytes);
    });
    return {
      write: (bytes) => {
        // Parts with bytes (the first, empty one only asks how far the server got).
        const parts = this.requests
          .push(bytes)
          .filter((r) => r.type === 'upload-part' && r.payloadBytes > 1024);
        for (let n = parts.length; n > 0; n--) {
          if (++this.parts === this.armAt) holding = true;
          else if (holding) {
            holding = false;
            queueMicrotask(() => {
              for (const b of held.splice(0)) for (const listener of listeners) listener(b);
            });
          }
        }
        return stream.write(bytes);
      },
      onData: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      onClose: (listener) => stream.onClose(listener),
      close: () => stream.close(),
    };
  }
}

describe('[0094] upload counterpart: a body larger than an upload batch goes up in parts', () => {
  it('a contact with a 5 MiB photo goes up in parts and arrives intact on a second terminal, with the edits made beside it', async () => {
    const a = await member(s, 'a');
    const ann = photoBytes(5 * MIB);
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'ann', ann, { title: 'Ann' });
      for (let i = 0; i < 5; i++) await a.terminal.edit('contacts', `c${i}`, utf8(`Carol ${i}`));
      await a.terminal.edit('pim', 'lunch', utf8('BEGIN:VEVENT'));
    });

    const report = await syncWithSim(s, a);
    expect(report.setAside).toEqual([]);
    expect(report.uploaded.map((u) => u.id).sort()).toEqual(['ann', 'c0', 'c1', 'c2', 'c3', 'c4', 'lunch']);
    expect(await a.terminal.records.dirtyCount()).toBe(0);
    expect(latin1(await onServer('contacts', 'ann'))).toBe(latin1(ann));
    expect(await partBytes(a.terminal.terminalId)).toEqual({
      parts: Math.ceil(ann.length / PART_BYTES),
      bytes: ann.length,
    });

    // Too large for any download page, it comes down as a stub (size, hash, title), and this
    // terminal, which chose no lazy download, fetches its substance in the same sync
    // (core/engine/forced-stubs.ts), in chunks checked against the hash.
    const b = await member(s, 'b');
    b.reader.insert(s.sim);
    await b.terminal.sync();
    const whole = await b.terminal.records.get('contacts', 'ann');
    expect(whole?.meta).toEqual({ title: 'Ann' });
    expect(whole?.stub).toBeUndefined();
    expect(latin1(whole?.body)).toBe(latin1(ann));
    const others = await terminalData(b, ['pim']);
    expect(others).toEqual({ 'pim/lunch': 'BEGIN:VEVENT' });
    for (let i = 0; i < 5; i++) {
      expect(fromUtf8((await b.terminal.records.get('contacts', `c${i}`))?.body ?? new Uint8Array())).toBe(
        `Carol ${i}`,
      );
    }
  });

  it('issue 20: a photo under the default batch (1 MiB) goes up whole in one batch, with no parts staged', async () => {
    const a = await member(s, 'a');
    const photo = photoBytes(DEFAULT_BATCH_BYTES - 1000, 6);
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'p1', photo);
    });
    const report = await syncWithSim(s, a);
    expect(report.uploaded.map((u) => u.id)).toEqual(['p1']);
    const stored = await s.world.server.store.getRecord(IMSI, 'contacts', 'p1');
    expect(latin1(stored?.body)).toBe(latin1(photo));
    expect(await partBytes(a.terminal.terminalId)).toEqual({ parts: 0, bytes: 0 });
  });

  it('issue 20: once a part of its size is taken, the next part leaves before the ack of the one before it', async () => {
    // Acks are held back from the second part on, until a third is written: with one part in
    // flight at a time the sync would wait for the second part's ack until it timed out.
    const link = new AckHoldingLink(s.world.link(), 2);
    const a = await member(s, 'a', { link });
    const ann = photoBytes(2 * MIB, 8);
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'ann', ann);
    });
    const report = await syncWithSim(s, a);
    expect(report.uploaded.map((u) => u.id)).toEqual(['ann']);
    expect(latin1(await onServer('contacts', 'ann'))).toBe(latin1(ann));
    expect(link.parts).toBe((2 * MIB) / PART_BYTES);
    expect(await partBytes(a.terminal.terminalId)).toEqual({
      parts: (2 * MIB) / PART_BYTES,
      bytes: ann.length,
    });
  });

  it('a link cut in the middle of a part resumes where the server got: each byte is stored once, sent once but for the parts in flight', async () => {
    const link = new CuttingLink(s.world.link());
    const a = await member(s, 'a', { link });
    const ann = photoBytes(2 * MIB, 3);
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'ann', ann);
      await a.terminal.edit('contacts', 'bob', utf8('Bob'));
    });

    const before = link.written;
    link.cutAfter(MIB + 50_000);
    await expect(syncWithSim(s, a)).rejects.toMatchObject({ kind: 'link-down' });
    const staged = await s.world.server.store.transaction((tx) =>
      tx.getStaging({ terminalId: a.terminal.terminalId, category: 'contacts', recordId: 'ann' }),
    );
    expect(staged?.got).toBeGreaterThan(0);
    expect(staged?.got).toBeLessThan(ann.length);
    expect((staged?.got ?? 0) % PART_BYTES).toBe(0);
    expect(await a.terminal.records.dirtyCount()).toBe(2);

    link.heal();
    const report = await syncWithSim(s, a);
    expect(report.uploaded.map((u) => u.id).sort()).toEqual(['ann', 'bob']);
    expect(latin1(await onServer('contacts', 'ann'))).toBe(latin1(ann));
    // The server stored each byte once; the terminal sent each once, but for the parts in flight
    // when the cut came (PART_WINDOW at most: the one it tore, and one written whole that the server
    // had not taken yet) and a few hundred bytes of framing a part, connections and the rest of the sync.
    expect((await partBytes(a.terminal.terminalId)).bytes).toBe(ann.length);
    const sent = link.written - before;
    expect(sent).toBeGreaterThan(ann.length);
    expect(sent).toBeLessThan(ann.length + PART_WINDOW * PART_BYTES + 16 * 1024);
  });

  it("a record over the server's maximum is set aside with a notice while the other 99 changes are uploaded; an edit retries it", async () => {
    // A server on the same store that takes records of at most 4 MiB.
    small = await startSyncServer({
      store: s.world.server.store,
      port: null,
      maxRecordBytes: 4 * MIB,
    });
    const link = memoryLink(small);
    const a = await member(s, 'a', { link });
    await withSim(s, a, async () => {
      for (let i = 0; i < 50; i++) await a.terminal.edit('contacts', `c${i}`, utf8(`Contact ${i}`));
      await a.terminal.edit('contacts', 'ann', photoBytes(5 * MIB));
      for (let i = 0; i < 49; i++) await a.terminal.edit('pim', `e${i}`, utf8(`Event ${i}`));
    });

    const report = await syncWithSim(s, a);
    const reason = `server refused upload-part: record of ${5 * MIB} bytes exceeds the server's maximum of ${4 * MIB}`;
    expect(report.setAside).toEqual([{ category: 'contacts', id: 'ann', reason }]);
    expect(report.uploaded).toHaveLength(99);
    expect(a.agent.notices.filter((n) => n.kind === 'set-aside')).toEqual([
      { kind: 'set-aside', category: 'contacts', recordId: 'ann', reason },
    ]);
    expect(Object.keys(await userArea(s.world))).toHaveLength(99);
    expect(await onServer('contacts', 'ann')).toBeUndefined();
    expect(await a.terminal.records.dirtyCount()).toBe(0);
    expect(await a.terminal.records.setAside()).toEqual([{ category: 'contacts', id: 'ann', reason }]);
    // Nothing of it was kept: refused at its first part.
    expect((await partBytes(a.terminal.terminalId)).bytes).toBe(0);

    // A smaller photo: the record goes up again, and is no longer set aside.
    const smaller = photoBytes(3 * MIB, 1);
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'ann', smaller);
    });
    const retry = await syncWithSim(s, a);
    expect(retry.uploaded.map((u) => u.id)).toEqual(['ann']);
    expect(retry.setAside).toEqual([]);
    expect(await a.terminal.records.setAside()).toEqual([]);
    expect(latin1(await onServer('contacts', 'ann'))).toBe(latin1(smaller));
  });

  it('a record the protocol cannot carry (an id or a title too long) is set aside; the others go up', async () => {
    const a = await member(s, 'a');
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'ok-1', utf8('One'));
      await a.terminal.edit('contacts', `uid-${'x'.repeat(300)}`, utf8('Long UID'));
      await a.terminal.edit('mail', 'long-title', utf8('Hi'), { title: 'T'.repeat(201) });
      await a.terminal.edit('pim', 'ok-2', utf8('Two'));
    });

    const report = await syncWithSim(s, a);
    expect(report.uploaded.map((u) => u.id).sort()).toEqual(['ok-1', 'ok-2']);
    expect(report.setAside.map((r) => [r.id.slice(0, 8), r.reason])).toEqual([
      ['uid-xxxx', expect.stringMatching(/^cannot be sent: id: /)],
      ['long-tit', expect.stringMatching(/^cannot be sent: meta\.title: /)],
    ]);
    expect(a.agent.notices.filter((n) => n.kind === 'set-aside')).toHaveLength(2);
    expect(await userArea(s.world)).toEqual({ 'contacts/ok-1': 'One', 'pim/ok-2': 'Two' });
    expect(await a.terminal.records.dirtyCount()).toBe(0);
  });

  it('a server whose messages are smaller than our batches: a batch it refuses whole is split, parts shrink to fit, nothing is set aside', async () => {
    small = await startSyncServer({
      store: s.world.server.store,
      port: null,
      maxMessageBytes: 64 * 1024,
    });
    const link = memoryLink(small);
    const a = await member(s, 'a', { link });
    const ann = photoBytes(300 * 1024, 9);
    await withSim(s, a, async () => {
      for (let i = 0; i < 100; i++) await a.terminal.edit('contacts', `c${i}`, photoBytes(1000, i));
      await a.terminal.edit('contacts', 'ann', ann);
    });

    const report = await syncWithSim(s, a);
    expect(report.setAside).toEqual([]);
    expect(report.uploaded).toHaveLength(101);
    expect(latin1(await onServer('contacts', 'ann'))).toBe(latin1(ann));
    expect((await partBytes(a.terminal.terminalId)).bytes).toBe(ann.length);
    expect(await a.terminal.records.dirtyCount()).toBe(0);
    // The server refused the first batch (all 101 records, ~400 KB) as too large for its messages.
    // The sync then takes ann (300 KiB, over half of what was refused) in parts of 200 KB, refused,
    // then 100 KB, refused, then 50 KB; the 100 contacts go in halves of 50 KB, taken.
    expect(await refusals()).toEqual([
      expect.stringMatching(/^too-large: message of 40\d{4} bytes exceeds 65536$/),
      expect.stringMatching(/^too-large: message of 20\d{4} bytes exceeds 65536$/),
      expect.stringMatching(/^too-large: message of 10\d{4} bytes exceeds 65536$/),
    ]);
  });

  it('a server whose messages are smaller than our parts: the first part shrinks by halves until it fits, and the next body starts at that size', async () => {
    small = await startSyncServer({
      store: s.world.server.store,
      port: null,
      maxMessageBytes: 64 * 1024,
    });
    // Batches of 256 KiB: both bodies are larger than a batch, and go in parts from the start.
    const a = await member(s, 'a', { link: memoryLink(small), options: { batchBytes: 256 * 1024 } });
    const ann = photoBytes(400 * 1024, 4);
    const bob = photoBytes(300 * 1024, 5);
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'ann', ann);
      await a.terminal.edit('contacts', 'bob', bob);
    });

    const report = await syncWithSim(s, a);
    expect(report.setAside).toEqual([]);
    expect(report.uploaded.map((u) => u.id).sort()).toEqual(['ann', 'bob']);
    expect(latin1(await onServer('contacts', 'ann'))).toBe(latin1(ann));
    expect(latin1(await onServer('contacts', 'bob'))).toBe(latin1(bob));
    // 256 KiB, 128 KiB and 64 KiB (with its framing, just over 65,536) refused once each, for ann's
    // first part alone (one in flight until a part of a size is taken); bob's parts were 32 KiB
    // from the start.
    expect(await refusals()).toEqual([
      expect.stringMatching(/^too-large: message of 26\d{4} bytes exceeds 65536$/),
      expect.stringMatching(/^too-large: message of 13\d{4} bytes exceeds 65536$/),
      expect.stringMatching(/^too-large: message of 65\d{3} bytes exceeds 65536$/),
    ]);
    expect(await a.terminal.records.dirtyCount()).toBe(0);
  });

  it('a power cut at any commit of a sync with a large body loses nothing, applies it once and sends its parts once', async () => {
    const ann = photoBytes(MIB, 5);
    /** Terminal A with a large and a small edit, and its flash. */
    const ready = async (sc: Scene) => {
      const nv = new SimNvStore();
      const a = await member(sc, 'a', { nv, options: { batchBytes: 256 * 1024 } });
      await withSim(sc, a, async () => {
        await a.terminal.edit('contacts', 'ann', ann);
        await a.terminal.edit('contacts', 'bob', utf8('Bob'));
      });
      return { a, nv };
    };
    const first = await ready(s);
    const before = first.nv.stats().commits;
    await syncWithSim(s, first.a);
    const commits = first.nv.stats().commits - before;
    expect(commits).toBeGreaterThanOrEqual(4);

    for (let cut = 1; cut <= commits; cut++) {
      const sc = await scene();
      try {
        const { a, nv } = await ready(sc);
        nv.cutPowerAtCommit(cut);
        await expect(syncWithSim(sc, a), `cut at commit ${cut}`).rejects.toBeTruthy();
        nv.powerOn();
        const rebooted = await Terminal.create(
          {
            reader: a.reader,
            nv,
            link: sc.world.link(),
            clock: sc.world.clock,
            agent: new KeyringAgent(KEYRING),
          },
          { timeoutMs: 5000, batchBytes: 256 * 1024 },
        );
        sc.own.push(rebooted);
        a.reader.insert(sc.sim);
        const report = await rebooted.sync();
        a.reader.remove();
        expect(report.setAside, `cut at commit ${cut}`).toEqual([]);
        expect(await rebooted.records.dirtyCount(), `cut at commit ${cut}`).toBe(0);
        const stored = await sc.world.server.store.getRecord(IMSI, 'contacts', 'ann');
        expect(latin1(stored?.body), `cut at commit ${cut}`).toBe(latin1(ann));
        const log = (await sc.world.server.store.changeLog(IMSI)).map((e) => e.recordId);
        expect(log.sort(), `cut at commit ${cut}`).toEqual(['ann', 'bob']);
        const lines = (await sc.world.server.store.history(IMSI, 100_000)).filter(
          (e) => e.action === 'upload-part',
        );
        expect(
          lines.reduce((n, e) => n + e.uploadedBytes, 0),
          `cut at commit ${cut}`,
        ).toBe(ann.length);
      } finally {
        await closeScene(sc);
      }
    }
  });
});
