import { afterEach, describe, expect, it } from 'vitest';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES } from '../../core/index.js';
import { worldOptions } from '../support/backend.js';
import { ICCID, IMSI, LOGIN, TERMINAL_PASSWORD } from './world.js';

/**
 * Issue 14 item 6: registration under FIG. 11-A writes to two places, the
 * server's subscriber managing database and the SIM's terminal list. A
 * failure at either leaves both as they were.
 */
describe('FIG. 11-A registration is all or nothing across server and card', () => {
  let world: SimWorld;
  afterEach(async () => world.close());

  const phonebook = Array.from({ length: 20 }, (_, i) => ({
    name: `Friend ${i}`,
    number: `017000000${i}`,
  }));

  it('a SIM with no room for the terminal ID (full phonebook, no proprietary file): the server registers nothing', async () => {
    world = await SimWorld.start(await worldOptions());
    await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
    const sim = SimWorld.sim({ terminalIdFile: false, adnRecords: 20, phonebook });
    const before = sim.snapshot().adnRecords.map((r) => [...r]);
    const t = await world.addTerminal(
      'pc',
      new KeyringAgent({ pin: '1234', terminalPassword: TERMINAL_PASSWORD }),
    );
    t.reader.insert(sim);
    await expect(
      world.register(t, {
        policy: 'fig11-terminal-list',
        loginPassword: LOGIN,
        terminalPassword: TERMINAL_PASSWORD,
        categories: [...CATEGORIES],
      }),
    ).rejects.toThrow(/do not fit/);
    expect(await world.server.admin.listTerminals(IMSI)).toEqual([]);
    expect(sim.snapshot().adnRecords.map((r) => [...r])).toEqual(before);
    expect(await t.terminal.registration()).toBeUndefined();
  });

  it('the server refusing (a wrong login password) leaves the terminal ID off the SIM', async () => {
    world = await SimWorld.start(await worldOptions());
    await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
    const sim = SimWorld.sim();
    const t = await world.addTerminal(
      'pc',
      new KeyringAgent({ pin: '1234', terminalPassword: TERMINAL_PASSWORD }),
    );
    t.reader.insert(sim);
    await expect(
      world.register(t, {
        policy: 'fig11-terminal-list',
        loginPassword: 'not the login password',
        terminalPassword: TERMINAL_PASSWORD,
        categories: [...CATEGORIES],
      }),
    ).rejects.toMatchObject({ kind: 'server-refused' });
    const listed = (sim.snapshot().terminalIdRecords ?? [])
      .map((r) => new TextDecoder('latin1').decode(r))
      .filter((text) => text.includes(t.terminal.terminalId));
    expect(listed).toEqual([]);
    expect(await world.server.admin.listTerminals(IMSI)).toEqual([]);
  });
});
