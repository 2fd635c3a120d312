import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyringAgent, type SimTerminal, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, utf8 } from '../../core/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { ICCID, IMSI, LOGIN, TERMINAL_PASSWORD, terminalData, userArea } from './world.js';

let world: SimWorld;
let sim: VirtualUicc;

beforeEach(async () => {
  world = await SimWorld.start();
  await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
  sim = SimWorld.sim();
});

afterEach(async () => {
  await world.close();
});

async function registered(name: string, card = sim): Promise<SimTerminal & { agent: KeyringAgent }> {
  const agent = new KeyringAgent({ pin: '1234', terminalPassword: TERMINAL_PASSWORD });
  const t = await world.addTerminal(name, agent);
  t.reader.insert(card);
  await world.register(t, {
    policy: 'fig10-subscriber-binding',
    loginPassword: LOGIN,
    terminalPassword: TERMINAL_PASSWORD,
    categories: [...CATEGORIES],
  });
  t.reader.remove();
  return { ...t, agent };
}

async function syncWithSim(t: SimTerminal): Promise<void> {
  t.reader.insert(sim);
  await t.terminal.sync();
  t.reader.remove();
}

describe('[0044] / [0068]: edits on two terminals since their common base', () => {
  it('the later edit wins everywhere, the other is preserved as a copy, both users are told', async () => {
    const a = await registered('a');
    const b = await registered('b');
    await a.terminal.records.put('contacts', 'bob', utf8('Bob v1'));
    await syncWithSim(a);
    await syncWithSim(b);

    // Without the SIM ([0068]) A edits first, then B edits (later) and syncs.
    await a.terminal.records.put('contacts', 'bob', utf8('Bob from A'));
    await new Promise((r) => setTimeout(r, 5));
    await b.terminal.records.put('contacts', 'bob', utf8('Bob from B'));
    await syncWithSim(b);
    await syncWithSim(a);

    const area = await userArea(world);
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
    b.reader.insert(sim);
    await b.terminal.records.put('mail', 'm1', utf8('news'));
    await b.terminal.sync();
    const deadline = Date.now() + 3000;
    while (!a.agent.notices.some((n) => n.kind === 'server-updates') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(a.agent.notices).toContainEqual({ kind: 'server-updates', categories: ['mail'] });
    expect(b.agent.notices.some((n) => n.kind === 'server-updates')).toBe(false);
  });
});
