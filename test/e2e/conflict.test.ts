import { describe, expect, it, vi } from 'vitest';
import { type SimTerminal, SimWorld } from '../../cli/sim-world.js';
import { utf8 } from '../../core/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { type Member, member, sceneEachTest, syncWithSim as syncWithSimIn } from './scene.js';
import { terminalData, userArea } from './world.js';

const s = sceneEachTest();

/**
 * A terminal registered with `card` (the user's SIM unless a twin is given),
 * the card then taken out. Its user chose to edit without the SIM ([0068]:
 * `withoutSim: 'editable'`; the default, read-only, would refuse those edits).
 */
function registered(name: string, card?: VirtualUicc): Promise<Member> {
  return member(s, name, { ...(card ? { card } : {}), options: { withoutSim: 'editable' } });
}

async function syncWithSim(t: SimTerminal): Promise<void> {
  await syncWithSimIn(s, t);
}

describe('[0044] / [0068]: edits on two terminals since their common base', () => {
  it('the later edit wins everywhere, the other is preserved as a copy, both users are told', async () => {
    const a = await registered('a');
    const b = await registered('b');
    await a.terminal.edit('contacts', 'bob', utf8('Bob v1'));
    await syncWithSim(a);
    await syncWithSim(b);

    // Without the SIM ([0068]) A edits first, then B edits (later) and syncs.
    const fromA = await a.terminal.edit('contacts', 'bob', utf8('Bob from A'));
    // B's edit comes later: the clock has passed A's stamp (a barrier on the clock, not a guess at how long).
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(fromA.editedAt), { interval: 1 });
    await b.terminal.edit('contacts', 'bob', utf8('Bob from B'));
    await syncWithSim(b);
    await syncWithSim(a);

    const area = await userArea(s.world);
    expect(area['contacts/bob']).toBe('Bob from B');
    const copies = Object.entries(area).filter(([k]) => k.startsWith('contacts/bob~conflict~'));
    expect(copies.map(([, v]) => v)).toEqual(['Bob from A']);
    expect(await terminalData(a)).toEqual(area);
    expect(a.agent.notices.some((n) => n.kind === 'conflict' && n.recordId === 'bob')).toBe(true);

    await syncWithSim(b);
    expect(await terminalData(b)).toEqual(area);
  });

  it('[0044]: an online terminal of the same subscriber is told the server has updates', async () => {
    // A second card of the same subscription (a twin SIM) keeps terminal A online while B syncs.
    const twin = SimWorld.sim();
    const a = await registered('a', twin);
    const b = await registered('b');
    a.reader.insert(twin);
    await a.terminal.sync();
    b.reader.insert(s.sim);
    await b.terminal.edit('mail', 'm1', utf8('news'));
    await b.terminal.sync();
    await vi.waitFor(
      () => expect(a.agent.notices).toContainEqual({ kind: 'server-updates', categories: ['mail'] }),
      { timeout: 3000 },
    );
    expect(b.agent.notices.some((n) => n.kind === 'server-updates')).toBe(false);
  });
});
