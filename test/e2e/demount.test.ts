import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, utf8 } from '../../core/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { ICCID, IMSI, LOGIN, TERMINAL_PASSWORD, userArea } from './world.js';

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

describe('FIG. 16 demount upload holds the link only so long', () => {
  it('a demount upload cut by its time limit resumes at the next mount, each record applied once', async () => {
    const agent = new KeyringAgent({ pin: '1234', terminalPassword: TERMINAL_PASSWORD });
    // 1 ms of link after the card leaves: far too little for 3,000 records in 12 batches.
    const t = await world.addTerminal('a', agent, { demountHoldMs: 1, batchBytes: 8 * 1024 });
    t.reader.insert(sim);
    await world.register(t, {
      policy: 'fig10-subscriber-binding',
      loginPassword: LOGIN,
      terminalPassword: TERMINAL_PASSWORD,
      categories: [...CATEGORIES],
    });
    t.reader.remove();
    t.terminal.start();
    await world.insert(t, sim);
    for (let i = 0; i < 3000; i++)
      await t.terminal.records.put('contacts', `c${i}`, utf8(`contact number ${i}`));
    await world.remove(t);
    expect(agent.notices).toContainEqual({
      kind: 'sync-rejected',
      reason: expect.stringContaining('stopped after 1 ms'),
    });
    const partial = Object.keys(await userArea(world)).length;
    expect(partial).toBeLessThan(3000);
    expect(await t.terminal.records.dirtyCount()).toBeGreaterThan(0);

    await world.insert(t, sim);
    expect(Object.keys(await userArea(world))).toHaveLength(3000);
    expect(await t.terminal.records.dirtyCount()).toBe(0);
    const log = await world.server.store.changeLog(IMSI, 0, 10_000);
    expect(log.filter((e) => e.origin === t.terminal.terminalId)).toHaveLength(3000);
  });
});
