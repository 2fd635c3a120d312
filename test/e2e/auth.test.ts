import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyringAgent, type SimTerminal, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, type PolicyName, SyncError, utf8 } from '../../core/index.js';
import type { ByteStream, RadioLink } from '../../hal/index.js';
import { ScriptedUserAgent } from '../../hal-sim/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { worldOptions } from '../support/backend.js';
import { ICCID, IMSI, LOGIN, TERMINAL_PASSWORD, terminalData, userArea } from './world.js';

const STRANGER_IMSI = '228062800000208';
const STRANGER_ICCID = '8988211000000430028';

/** Counts connections to the server: "no request reaches the server" means none were opened. */
class CountingLink implements RadioLink {
  opened = 0;
  constructor(private readonly inner: RadioLink) {}
  state() {
    return this.inner.state();
  }
  onState(listener: Parameters<RadioLink['onState']>[0]) {
    return this.inner.onState(listener);
  }
  open(): Promise<ByteStream> {
    this.opened++;
    return this.inner.open();
  }
}

let world: SimWorld;
let sim: VirtualUicc;
let strangerSim: VirtualUicc;

beforeEach(async () => {
  world = await SimWorld.start(await worldOptions());
  await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
  await world.server.admin.addSubscriber({
    subscriber: STRANGER_IMSI,
    iccid: STRANGER_ICCID,
    loginPassword: 'stranger-login',
  });
  sim = SimWorld.sim();
  strangerSim = SimWorld.sim({ imsi: STRANGER_IMSI, iccid: STRANGER_ICCID, pin: '9999' });
});

afterEach(async () => {
  await world.close();
});

async function terminalFor(
  name: string,
  card: VirtualUicc,
  policy: PolicyName,
  keyring = { pin: '1234', terminalPassword: TERMINAL_PASSWORD },
  login = LOGIN,
) {
  const link = new CountingLink(world.link());
  const agent = new KeyringAgent(keyring);
  const t = await world.addTerminal(name, agent, { link });
  t.reader.insert(card);
  await world.register(t, {
    policy,
    loginPassword: login,
    terminalPassword: keyring.terminalPassword,
    categories: [...CATEGORIES],
  });
  t.reader.remove();
  return { t, link, agent };
}

function rejections(agent: KeyringAgent): string[] {
  return agent.notices.flatMap((n) => (n.kind === 'sync-rejected' ? [n.reason] : []));
}

async function syncError(t: SimTerminal): Promise<SyncError> {
  try {
    await t.terminal.sync();
  } catch (e) {
    if (e instanceof SyncError) return e;
    throw e;
  }
  throw new Error('expected the sync to be refused');
}

describe("[0009]: nobody else's terminal or SIM touches the user's data", () => {
  it("FIG. 14: a stranger's SIM in a registered terminal is refused by the server, nothing is uploaded", async () => {
    // FIG. 13 policy: the terminal checks nothing itself, so the server must.
    const { t, agent } = await terminalFor('mine', sim, 'fig13-server-only');
    // The owner's edit, made with the owner's SIM in; then a stranger's SIM goes in.
    t.reader.insert(sim);
    await t.terminal.edit('contacts', 'private', utf8('my secret contact'));
    t.reader.remove();
    t.reader.insert(strangerSim);
    agent.keyring.pin = '9999';
    const error = await syncError(t);
    expect(error).toMatchObject({ kind: 'server-refused', code: 'not-registered' });
    expect(await userArea(world, STRANGER_IMSI)).toEqual({});
    expect(await userArea(world, IMSI)).toEqual({});
    expect(rejections(agent)).toHaveLength(1);
    const refused = (await world.server.admin.history(STRANGER_IMSI)).filter((e) => e.outcome === 'refused');
    expect(refused.length).toBeGreaterThan(0);
  });

  it("FIG. 14: the user's SIM in a stranger's registered terminal is refused; the stranger's data stays out", async () => {
    const { t, agent } = await terminalFor(
      'strangers',
      strangerSim,
      'fig13-server-only',
      {
        pin: '9999',
        terminalPassword: 'stranger-pw',
      },
      'stranger-login',
    );
    t.reader.insert(strangerSim);
    await t.terminal.edit('contacts', 'theirs', utf8('stranger data'));
    t.reader.remove();
    t.reader.insert(sim);
    agent.keyring.pin = '1234';
    expect(await syncError(t)).toMatchObject({ kind: 'server-refused', code: 'not-registered' });
    expect(await userArea(world, IMSI)).toEqual({});
  });

  it("FIG. 10-B: with subscriber binding the terminal itself refuses a stranger's SIM, making no request", async () => {
    const { t, link } = await terminalFor('mine', sim, 'fig10-subscriber-binding');
    const opensAfterRegistration = link.opened;
    t.reader.insert(strangerSim);
    (t.agent as KeyringAgent).keyring.pin = '9999';
    expect(await syncError(t)).toMatchObject({ kind: 'auth-refused', code: 'subscriber-mismatch' });
    expect(link.opened).toBe(opensAfterRegistration);
  });

  it('FIG. 11-B: with the terminal list the terminal refuses a SIM that does not list it', async () => {
    const { t, link } = await terminalFor('mine', sim, 'fig11-terminal-list');
    // FIG. 11-A wrote this terminal's ID onto the user's SIM, so the user's own SIM passes.
    t.reader.insert(sim);
    expect((await t.terminal.sync()).trigger).toBe('user');
    t.reader.remove();
    const opens = link.opened;
    t.reader.insert(strangerSim);
    (t.agent as KeyringAgent).keyring.pin = '9999';
    expect(await syncError(t)).toMatchObject({ kind: 'auth-refused', code: 'terminal-not-listed' });
    expect(link.opened).toBe(opens);
  });

  it('an unregistered terminal cannot sync at all', async () => {
    const t = await world.addTerminal('new', new KeyringAgent({ pin: '1234', terminalPassword: 'x' }));
    t.reader.insert(sim);
    await t.terminal.mount();
    expect(await syncError(t)).toMatchObject({ kind: 'not-registered' });
  });

  it('a revoked (lost) terminal is refused at connection and its data goes nowhere', async () => {
    const { t, agent } = await terminalFor('lost', sim, 'fig10-subscriber-binding');
    await world.server.admin.revoke(t.terminal.terminalId);
    // The terminal does not know yet: the edit is made, and goes nowhere.
    t.reader.insert(sim);
    await t.terminal.edit('contacts', 'x', utf8('X'));
    expect(await syncError(t)).toMatchObject({ kind: 'server-refused' });
    expect(rejections(agent).some((r) => r.includes('not authorized'))).toBe(true);
    expect(await userArea(world)).toEqual({});
  });
});

describe("FIG. 9 / FIG. 12: the user must be the card's and the terminal's owner", () => {
  it('FIG. 9: wrong PINs are counted by the card, the third blocks it, and no request reaches the server', async () => {
    const { t, link } = await terminalFor('pc', sim, 'fig9-pin-password');
    const opens = link.opened;
    const agent = new ScriptedUserAgent({ pins: ['0000', '1111', '2222'], passwords: [TERMINAL_PASSWORD] });
    const t2 = await world.addTerminal('pc2', agent, { link, nv: t.nv, terminalId: t.terminal.terminalId });
    t2.reader.insert(sim);
    await expect(t2.terminal.sync()).rejects.toMatchObject({
      code: 'pin-wrong',
      message: expect.stringContaining('2 tries left'),
    });
    await expect(t2.terminal.sync()).rejects.toMatchObject({
      code: 'pin-wrong',
      message: expect.stringContaining('1 try left'),
    });
    await expect(t2.terminal.sync()).rejects.toMatchObject({ code: 'pin-blocked' });
    expect(sim.snapshot().pinRetriesLeft).toBe(0);
    await expect(t2.terminal.sync()).rejects.toMatchObject({ code: 'pin-blocked' });
    expect(link.opened).toBe(opens);
    expect(agent.notices.filter((n) => n.kind === 'sync-rejected')).toHaveLength(4);
  });

  it('FIG. 12: a wrong terminal password is refused before any request', async () => {
    const { t, link } = await terminalFor('pi', sim, 'fig12-binding-password');
    const opens = link.opened;
    (t.agent as KeyringAgent).keyring.terminalPassword = 'guess';
    t.reader.insert(sim);
    expect(await syncError(t)).toMatchObject({ kind: 'auth-refused', code: 'password-wrong' });
    expect(link.opened).toBe(opens);
    (t.agent as KeyringAgent).keyring.terminalPassword = TERMINAL_PASSWORD;
    await t.terminal.edit('pim', 'e', utf8('event'));
    const report = await t.terminal.sync();
    expect(report.uploaded.map((u) => u.id)).toEqual(['e']);
    expect(await terminalData(t)).toEqual(await userArea(world));
  });
});
