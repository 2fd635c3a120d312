import { describe, expect, it } from 'vitest';
import { utf8 } from '../../core/index.js';
import { member, sceneEachTest, syncWithSim, withSim } from './scene.js';
import { IMSI, terminalData, userArea } from './world.js';

const s = sceneEachTest();

describe('FIG. 15 / FIG. 7b / [0033]: per-terminal data selection', () => {
  it('adding a category brings its existing server data down; removing one stops its sync, server data kept', async () => {
    const a = await member(s, 'a', { categories: ['contacts'] });
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      await b.terminal.edit('contacts', 'c1', utf8('Carol'));
      await b.terminal.edit('mail', 'm1', utf8('old mail'));
    });
    await syncWithSim(s, b);
    await syncWithSim(s, a);
    expect(await terminalData(a)).toEqual({ 'contacts/c1': 'Carol' });

    a.reader.insert(s.sim);
    expect(await a.terminal.setCategories(['contacts', 'mail'])).toEqual(['contacts', 'mail']);
    expect((await a.terminal.registration())?.categories).toEqual(['contacts', 'mail']);
    expect((await s.world.server.store.getTerminal(a.terminal.terminalId))?.categories).toEqual([
      'contacts',
      'mail',
    ]);
    const after = await a.terminal.sync();
    expect(after.downloaded.map((d) => d.id)).toEqual(['m1']);
    expect(await terminalData(a)).toEqual({ 'contacts/c1': 'Carol', 'mail/m1': 'old mail' });

    await a.terminal.setCategories(['contacts']);
    a.reader.remove();
    await withSim(s, b, async () => {
      await b.terminal.edit('mail', 'm2', utf8('new mail'));
    });
    await syncWithSim(s, b);
    const later = await syncWithSim(s, a);
    expect(later.downloaded).toEqual([]);
    expect(await a.terminal.records.get('mail', 'm2')).toBeUndefined();
    expect(Object.keys(await userArea(s.world)).sort()).toEqual(['contacts/c1', 'mail/m1', 'mail/m2']);
  });

  it('[0033]: rights data follows application data and cannot be chosen alone', async () => {
    const a = await member(s, 'a', { categories: ['contacts'] });
    a.reader.insert(s.sim);
    expect(await a.terminal.setCategories(['rights'])).toEqual([]);
    expect(await a.terminal.setCategories(['application'])).toEqual(['application', 'rights']);
    expect((await s.world.server.store.getTerminal(a.terminal.terminalId))?.categories).toEqual([
      'application',
      'rights',
    ]);
  });

  it('[0033]: mail by folder and by recency; widening the folders brings the older ones down', async () => {
    const a = await member(s, 'a', { categories: ['mail'] });
    const b = await member(s, 'b');
    const now = Date.now();
    const day = 86_400_000;
    await withSim(s, b, async () => {
      await b.terminal.edit('mail', 'in-new', utf8('a'), { folder: 'inbox', date: now - 2 * day });
      await b.terminal.edit('mail', 'in-old', utf8('b'), { folder: 'inbox', date: now - 400 * day });
      await b.terminal.edit('mail', 'sent', utf8('c'), { folder: 'sent', date: now - day });
    });
    await syncWithSim(s, b);
    a.reader.insert(s.sim);
    await a.terminal.setCategories(['mail'], { folders: { mail: ['inbox'] }, recentDays: { mail: 90 } });
    const first = await a.terminal.sync();
    expect(first.downloaded.map((d) => d.id)).toEqual(['in-new']);
    expect((await a.terminal.records.get('mail', 'in-new'))?.meta).toEqual({
      folder: 'inbox',
      date: now - 2 * day,
    });
    await a.terminal.setCategories(['mail'], {
      folders: { mail: ['inbox', 'sent'] },
      recentDays: { mail: 90 },
    });
    const second = await a.terminal.sync();
    expect(second.downloaded.map((d) => d.id)).toEqual(['sent']);
    expect(Object.keys(await terminalData(a)).sort()).toEqual(['mail/in-new', 'mail/sent']);
    // Filtered-out mail stays on the server.
    expect((await s.world.server.store.getRecord(IMSI, 'mail', 'in-old'))?.body).toEqual(utf8('b'));
  });
});
