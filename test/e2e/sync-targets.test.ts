import { describe, expect, it } from 'vitest';
import { SyncError, Terminal, utf8 } from '../../core/index.js';
import { type ByteStream, HalError } from '../../hal/index.js';
import { SimNvStore } from '../../hal-sim/index.js';
import { member, sceneEachTest, syncWithSim, WrappedLink, withSim } from './scene.js';
import { terminalData, userArea } from './world.js';

const s = sceneEachTest();

async function refusal(work: Promise<unknown>): Promise<SyncError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SyncError);
  return error as SyncError;
}

describe('claim 6 / FIG. 7b: changes only in the sync-target categories (issue 21)', () => {
  it('an edit or delete in a category the terminal does not sync is refused, with the SIM in or not', async () => {
    const a = await member(s, 'a', { categories: ['contacts'], options: { withoutSim: 'editable' } });
    a.reader.insert(s.sim);
    const edit = await refusal(a.terminal.edit('mail', 'm1', utf8('never synced')));
    expect([edit.kind, edit.code]).toEqual(['read-only', 'category-not-synced']);
    expect(edit.message).toContain('mail is not a sync-target category');
    const del = await refusal(a.terminal.delete('mail', 'm1'));
    expect([del.kind, del.code]).toEqual(['read-only', 'category-not-synced']);
    // What it does sync is editable as before.
    await a.terminal.edit('contacts', 'c1', utf8('Carol'));
    a.reader.remove();
    const without = await refusal(a.terminal.edit('pim', 'p1', utf8('no SIM either')));
    expect(without.code).toBe('category-not-synced');
    expect(await a.terminal.records.dirtyCount()).toBe(1);
    await syncWithSim(s, a);
    expect(await a.terminal.records.dirtyCount()).toBe(0);
    expect(await userArea(s.world)).toEqual({ 'contacts/c1': 'Carol' });
  });

  it('a dropped category keeps its records here, read-only and no longer updated; added back, it catches up', async () => {
    const a = await member(s, 'a', { categories: ['contacts', 'mail'] });
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      await b.terminal.edit('mail', 'm1', utf8('first'));
      await b.terminal.edit('mail', 'm2', utf8('to be deleted'));
    });
    await syncWithSim(s, b);
    await syncWithSim(s, a);

    a.reader.insert(s.sim);
    await a.terminal.setCategories(['contacts']);
    a.reader.remove();
    expect(await terminalData(a, ['mail'])).toEqual({ 'mail/m1': 'first', 'mail/m2': 'to be deleted' });
    a.reader.insert(s.sim);
    expect((await refusal(a.terminal.edit('mail', 'm1', utf8('x')))).code).toBe('category-not-synced');
    a.reader.remove();

    await withSim(s, b, async () => {
      await b.terminal.edit('mail', 'm1', utf8('second'));
      await b.terminal.delete('mail', 'm2');
    });
    await syncWithSim(s, b);
    await syncWithSim(s, a);
    expect(await terminalData(a, ['mail'])).toEqual({ 'mail/m1': 'first', 'mail/m2': 'to be deleted' });

    a.reader.insert(s.sim);
    await a.terminal.setCategories(['contacts', 'mail']);
    await a.terminal.sync();
    a.reader.remove();
    expect(await terminalData(a, ['mail'])).toEqual({ 'mail/m1': 'second' });
  });

  it('dropping a category uploads its unsent changes first, and is refused when they cannot go', async () => {
    const link = new CuttableLink(s.world.link());
    const a = await member(s, 'a', { categories: ['contacts', 'mail'], link });
    a.reader.insert(s.sim);
    await a.terminal.edit('mail', 'm1', utf8('unsent'));
    await a.terminal.setCategories(['contacts']);
    expect(await a.terminal.records.dirtyCount()).toBe(0);
    expect(await userArea(s.world)).toEqual({ 'mail/m1': 'unsent' });

    await a.terminal.setCategories(['contacts', 'mail']);
    await a.terminal.edit('mail', 'm2', utf8('stuck'));
    // The server is out of reach now: the change cannot go, the category stays.
    link.cut();
    const error = await refusal(a.terminal.setCategories(['contacts']));
    expect(error.kind).toBe('link-down');
    expect((await a.terminal.registration())?.categories).toEqual(['contacts', 'mail']);
    expect(await a.terminal.records.dirtyCount()).toBe(1);
    a.reader.remove();
  });
});

describe('FIG. 15: a category change cut by a power failure (found by the convergence model, issue 21)', () => {
  it('at any NV commit, terminal and server agree on the categories after the next sync, and edits follow them', async () => {
    let fired = true;
    for (let cut = 1; fired; cut++) {
      const nv = new SimNvStore();
      const a = await member(s, `a${cut}`, { categories: ['contacts', 'mail'], nv });
      a.reader.insert(s.sim);
      nv.cutPowerAtCommit(cut);
      await a.terminal.setCategories(['contacts']).catch(() => undefined);
      fired = nv.stats().powerCuts > 0;
      // Past the change's last commit the cut never comes.
      nv.cutPowerAtCommit(Number.MAX_SAFE_INTEGER);
      nv.powerOn();
      // Reboot: the card loses power with the terminal; a fresh engine over the same flash.
      a.reader.remove();
      a.reader.insert(s.sim);
      const rebooted = await Terminal.create(
        { reader: a.reader, nv, link: s.world.link(), clock: s.world.clock, agent: a.agent },
        { timeoutMs: 5000 },
      );
      s.own.push(rebooted);
      await rebooted.sync();
      const here = (await rebooted.registration())?.categories;
      const there = (await s.world.server.store.getTerminal(rebooted.terminalId))?.categories;
      expect(here, `cut at commit ${cut}`).toEqual(there);
      const edit = rebooted.edit('mail', 'm1', utf8('after the cut'));
      if (here?.includes('mail')) await edit;
      else expect((await refusal(edit)).code, `cut at commit ${cut}`).toBe('category-not-synced');
      await rebooted.sync();
      expect(await rebooted.records.setAside(), `cut at commit ${cut}`).toEqual([]);
      a.reader.remove();
    }
  });
});

/** A radio link that can be cut: open streams break, and opening fails until the end of the test. */
class CuttableLink extends WrappedLink {
  private readonly streams = new Set<ByteStream>();
  private down = false;

  async open(): Promise<ByteStream> {
    if (this.down) throw new HalError('link-down', 'link cut (test)');
    const stream = await this.inner.open();
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
    return stream;
  }

  cut(): void {
    this.down = true;
    for (const stream of this.streams) stream.close();
  }
}
