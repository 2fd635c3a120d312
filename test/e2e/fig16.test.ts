import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimTerminal, SimWorld } from '../../cli/sim-world.js';
import { type SyncReport, utf8 } from '../../core/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { worldOptions } from '../support/backend.js';
import { ids, registeredTerminal, subscriberWorld } from './scene.js';
import { terminalData, userArea } from './world.js';

let world: SimWorld;
let sim: VirtualUicc;

/** Inserts the SIM and returns the mount sync's report. */
async function mount(t: SimTerminal): Promise<SyncReport> {
  const reports: SyncReport[] = [];
  const off = t.terminal.onReport((r) => reports.push(r));
  await world.insert(t, sim);
  off();
  expect(reports.map((r) => r.trigger)).toEqual(['mount']);
  return reports[0]!;
}

async function demount(t: SimTerminal): Promise<SyncReport> {
  const reports: SyncReport[] = [];
  const off = t.terminal.onReport((r) => reports.push(r));
  await world.remove(t);
  off();
  expect(reports.map((r) => r.trigger)).toEqual(['demount']);
  return reports[0]!;
}

beforeEach(async () => {
  ({ world, sim } = await subscriberWorld(await worldOptions()));
});

afterEach(async () => {
  await world.close();
});

describe('FIG. 16: one SIM moved between three terminals ([0058]–[0066])', () => {
  it('each mount downloads exactly what that terminal lacks; each demount uploads its update', async () => {
    const a = await registeredTerminal(world, sim, '10a');
    const b = await registeredTerminal(world, sim, '10b');
    const c = await registeredTerminal(world, sim, '10c');

    // T0: SIM on 10a, user area empty ([0059]).
    expect(ids(await mount(a), 'downloaded')).toEqual([]);
    await a.terminal.edit('contacts', 'a1', utf8('Alice'));
    // T1: demount uploads a1 ([0060]).
    expect(ids(await demount(a), 'uploaded')).toEqual(['a1']);
    expect(await userArea(world)).toEqual({ 'contacts/a1': 'Alice' });

    // [0061]: mounted on 10b, a1 comes down; b1 goes up at T2.
    expect(ids(await mount(b), 'downloaded')).toEqual(['a1']);
    await b.terminal.edit('mail', 'b1', utf8('Hello'));
    expect(ids(await demount(b), 'uploaded')).toEqual(['b1']);
    expect(Object.keys(await userArea(world)).sort()).toEqual(['contacts/a1', 'mail/b1']);

    // [0062]: 10c gets a1 + b1; c1 goes up at T3.
    expect(ids(await mount(c), 'downloaded')).toEqual(['a1', 'b1']);
    await c.terminal.edit('pim', 'c1', utf8('Dentist 10:00'));
    expect(ids(await demount(c), 'uploaded')).toEqual(['c1']);

    // [0063]: back on 10a, only b1 + c1 are new there; a2 goes up at T4.
    expect(ids(await mount(a), 'downloaded')).toEqual(['b1', 'c1']);
    await a.terminal.edit('browser', 'a2', utf8('https://example.org'));
    expect(ids(await demount(a), 'uploaded')).toEqual(['a2']);

    // [0064]: 10b lacks c1 + a2; b2 goes up at T5.
    expect(ids(await mount(b), 'downloaded')).toEqual(['a2', 'c1']);
    await b.terminal.edit('settings', 'b2', utf8('ringtone=bells'));
    expect(ids(await demount(b), 'uploaded')).toEqual(['b2']);
    expect(Object.keys(await userArea(world)).sort()).toEqual([
      'browser/a2',
      'contacts/a1',
      'mail/b1',
      'pim/c1',
      'settings/b2',
    ]);

    // [0065]: on 10a only b2 has not been reflected yet.
    expect(ids(await mount(a), 'downloaded')).toEqual(['b2']);
    expect(await terminalData(a)).toEqual(await userArea(world));
    expect(await terminalData(b)).toEqual(await userArea(world));
  });

  it('[0060]: a deletion travels like any other update', async () => {
    const a = await registeredTerminal(world, sim, '10a');
    const b = await registeredTerminal(world, sim, '10b');
    await mount(a);
    await a.terminal.edit('contacts', 'x', utf8('X'));
    await demount(a);
    await mount(b);
    expect(await terminalData(b)).toEqual({ 'contacts/x': 'X' });
    await b.terminal.delete('contacts', 'x');
    expect(ids(await demount(b), 'uploaded')).toEqual(['x']);
    expect(await userArea(world)).toEqual({});
    expect(ids(await mount(a), 'downloaded')).toEqual(['x']);
    expect(await terminalData(a)).toEqual({});
  });

  it("[0067]: data already on the server comes down at a new terminal's first sync", async () => {
    const a = await registeredTerminal(world, sim, '10a');
    await mount(a);
    for (let i = 0; i < 25; i++) await a.terminal.edit('contacts', `c${i}`, utf8(`contact ${i}`));
    await demount(a);
    const late = await registeredTerminal(world, sim, 'late');
    expect((await mount(late)).downloaded).toHaveLength(25);
    expect(await terminalData(late)).toEqual(await userArea(world));
  });

  it('[0068]: edits made while the SIM was elsewhere upload at the next mount', async () => {
    // The user of A chose to edit without the SIM ([0023]/[0068]; the default is read-only).
    const a = await registeredTerminal(world, sim, '10a', { options: { withoutSim: 'editable' } });
    const b = await registeredTerminal(world, sim, '10b');
    // Opened with the terminal password alone: the SIM is in neither terminal.
    await a.terminal.edit('archive', 'photo', utf8('jpeg bytes'));
    await mount(b);
    await demount(b);
    const report = await mount(a);
    expect(ids(report, 'uploaded')).toEqual(['photo']);
    expect(await userArea(world)).toEqual({ 'archive/photo': 'jpeg bytes' });
  });
});
