import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, utf8 } from '../../core/index.js';
import { ScriptedUserAgent } from '../../hal-sim/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { worldOptions } from '../support/backend.js';
import { ICCID, IMSI, terminalData, userArea } from './world.js';

let world: SimWorld;
let sim: VirtualUicc;

beforeEach(async () => {
  world = await SimWorld.start(await worldOptions());
  await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID });
  sim = SimWorld.sim();
});

afterEach(async () => {
  await world.close();
});

describe('registration', () => {
  it('FIG. 18/19: a shop pairs terminal and subscriber; the terminal claims its credential with no terminal password', async () => {
    const agent = new ScriptedUserAgent({ pins: ['1234'] });
    const t = await world.addTerminal('bought', agent);
    const { code } = await world.server.admin.registerShop({
      terminalId: t.terminal.terminalId,
      subscriber: IMSI,
      iccid: ICCID,
      categories: ['contacts', 'pim'],
    });
    t.reader.insert(sim);
    const registration = await t.terminal.register({
      policy: 'fig10-subscriber-binding',
      secret: code,
      categories: ['contacts', 'pim'],
      shop: true,
    });
    expect(registration).toMatchObject({ subscriberId: IMSI, categories: ['contacts', 'pim'] });
    // S71–S74: PIN asked and verified by the card, the terminal password never.
    expect(agent.prompts.map((p) => p.kind)).toEqual(['pin']);
    await t.terminal.edit('contacts', 'c', utf8('C'));
    await t.terminal.sync();
    expect(await userArea(world)).toEqual({ 'contacts/c': 'C' });
    // The shop code was single use.
    const other = await world.addTerminal('other', new ScriptedUserAgent({ pins: ['1234'] }));
    other.reader.insert(SimWorld.sim());
    await expect(
      other.terminal.register({
        policy: 'fig10-subscriber-binding',
        secret: code,
        categories: [...CATEGORIES],
        shop: true,
      }),
    ).rejects.toMatchObject({ kind: 'server-refused' });
    expect(() => agent.done()).not.toThrow();
  });

  it('FIG. 8 with a one-time code from the operator, which works once', async () => {
    const { code } = await world.server.admin.issueCode(IMSI);
    const t = await world.addTerminal('a', new KeyringAgent({ pin: '1234', terminalPassword: 'pw-1234' }));
    t.reader.insert(sim);
    await world.register(t, {
      policy: 'fig11-terminal-list',
      loginPassword: code,
      terminalPassword: 'pw-1234',
      categories: [...CATEGORIES],
    });
    // FIG. 11-A S26a: the terminal's ID is now on the SIM.
    const listed = (sim.snapshot().terminalIdRecords ?? [])
      .filter((r) => r[0] !== 0xff)
      .map((r) => new TextDecoder().decode(r.subarray(1, 1 + r[0]!)));
    expect(listed).toEqual([t.terminal.terminalId]);
    const b = await world.addTerminal('b', new KeyringAgent({ pin: '1234', terminalPassword: 'pw-1234' }));
    b.reader.insert(SimWorld.sim());
    await expect(
      world.register(b, {
        policy: 'fig10-subscriber-binding',
        loginPassword: code,
        terminalPassword: 'pw-1234',
        categories: [...CATEGORIES],
      }),
    ).rejects.toMatchObject({ kind: 'server-refused' });
    expect(await terminalData(t)).toEqual({});
  });

  it('a wrong login password is refused at connection and nothing is stored on the terminal', async () => {
    await world.server.admin.addSubscriber({ subscriber: IMSI, loginPassword: 'right-one' });
    const t = await world.addTerminal('a', new KeyringAgent({ pin: '1234', terminalPassword: 'pw-1234' }));
    t.reader.insert(sim);
    await expect(
      world.register(t, {
        policy: 'fig10-subscriber-binding',
        loginPassword: 'wrong-one',
        terminalPassword: 'pw-1234',
        categories: [...CATEGORIES],
      }),
    ).rejects.toMatchObject({ kind: 'server-refused', code: 'connect-refused' });
    expect(await t.terminal.registration()).toBeUndefined();
  });
});
