import { describe, expect, it } from 'vitest';
import { HalError } from '../../hal/index.js';
import {
  ScriptedUserAgent,
  SimCardReader,
  SimNvStore,
  SimRadioLink,
  VirtualClock,
} from '../../hal-sim/index.js';
import { VirtualUicc } from '../../uicc/index.js';
import { fromUtf8, utf8 } from '../bytes.js';
import { type Registration, TerminalConfig } from '../store/terminal-config.js';
import { Terminal, type TerminalOptions } from './terminal.js';

const OWNER = { iccid: '8988211000000430010', imsi: '001010000000102', pin: '1234' };
const TWIN = { ...OWNER, iccid: '8988211000000430028' };
const PASSWORD = 'terminal-pw';

const registration = (extra: Partial<Registration> = {}): Registration => ({
  policy: 'fig10-subscriber-binding',
  subscriberId: OWNER.imsi,
  credential: 'c',
  categories: ['contacts'],
  registeredAt: 0,
  iccid: OWNER.iccid,
  ...extra,
});

/**
 * A terminal set up as registration leaves it (area 6b written directly: no
 * server is needed, local access never reaches one).
 */
async function registered(
  reg: Registration | undefined,
  options: TerminalOptions & { password?: boolean } = {},
) {
  const nv = new SimNvStore();
  const config = new TerminalConfig(nv);
  if (reg) await config.recordRegistration(reg);
  const agent = new ScriptedUserAgent();
  const reader = new SimCardReader();
  const link = new SimRadioLink({
    connect: () => {
      throw new HalError('link-down', 'no server in these tests');
    },
  });
  const terminal = await Terminal.create({ reader, nv, link, clock: new VirtualClock(), agent }, options);
  if (options.password ?? true) await terminal.setTerminalPassword(PASSWORD);
  return { terminal, reader, agent, config };
}

describe('local access ([0023], issue 13 item 8)', () => {
  it('a grant ends when the SIM is removed: a long import stops there', async () => {
    const { terminal, reader, agent } = await registered(registration());
    reader.insert(new VirtualUicc(OWNER));
    agent.queuePin(OWNER.pin);
    const data = await terminal.personalData('write');
    await data.edit('contacts', 'a', utf8('A'));
    reader.remove();
    await expect(data.edit('contacts', 'b', utf8('B'))).rejects.toMatchObject({
      kind: 'auth-refused',
      code: 'card-changed',
    });
    expect((await terminal.records.list('contacts')).map((r) => r.id)).toEqual(['a']);
  });

  it('a grant for reading does not write', async () => {
    const { terminal, reader, agent } = await registered(registration());
    reader.insert(new VirtualUicc(OWNER));
    agent.queuePin(OWNER.pin);
    const data = await terminal.personalData('read');
    await expect(data.edit('contacts', 'a', utf8('A'))).rejects.toMatchObject({ kind: 'read-only' });
  });

  it('a registration made before ICCIDs were kept learns it at the first card that passes', async () => {
    const { iccid: _none, ...old } = registration();
    const { terminal, reader, agent, config } = await registered(old);
    reader.insert(new VirtualUicc(OWNER));
    agent.queuePin(OWNER.pin);
    await terminal.edit('contacts', 'a', utf8('A'));
    expect((await config.registration())?.iccid).toBe(OWNER.iccid);
    reader.remove();
    // Another card of the same subscriber (a replacement SIM) is a new registration's business.
    reader.insert(new VirtualUicc(TWIN));
    await expect(terminal.open('contacts', 'a')).rejects.toMatchObject({ code: 'subscriber-mismatch' });
    expect(agent.prompts.filter((p) => p.kind === 'pin')).toHaveLength(1);
  });

  it('FIG. 9: the PIN and the terminal password of the policy are asked, checked by the card and the hash', async () => {
    const { terminal, reader, agent } = await registered(registration({ policy: 'fig9-pin-password' }));
    reader.insert(new VirtualUicc(OWNER));
    agent.queuePin('0000');
    await expect(terminal.open('contacts', 'a')).rejects.toMatchObject({ code: 'pin-wrong' });
    agent.queuePin(OWNER.pin).queuePassword('guess');
    await expect(terminal.open('contacts', 'a')).rejects.toMatchObject({ code: 'password-wrong' });
    agent.queuePin(OWNER.pin).queuePassword(PASSWORD);
    await terminal.edit('contacts', 'a', utf8('A'));
  });

  it('a refusal kept in NV closes everything; a new registration opens it again', async () => {
    const { terminal, reader, agent, config } = await registered(registration());
    await config.setRefusal({ at: 0, reason: 'server refused sync: this terminal was revoked' });
    reader.insert(new VirtualUicc(OWNER));
    await expect(terminal.personalData('read')).rejects.toMatchObject({
      kind: 'auth-refused',
      code: 'revoked',
      message: expect.stringContaining('this terminal was revoked'),
    });
    expect(agent.prompts).toEqual([]);
    await config.recordRegistration(registration());
    agent.queuePin(OWNER.pin);
    await terminal.edit('contacts', 'a', utf8('A'));
    expect(fromUtf8((await terminal.open('contacts', 'a'))?.body ?? new Uint8Array())).toBe('A');
  });

  it("without a SIM: the terminal password, edits only when 'editable'; no password, no access", async () => {
    const editable = await registered(registration(), { withoutSim: 'editable' });
    editable.agent.queuePassword(PASSWORD);
    await editable.terminal.edit('contacts', 'a', utf8('A'));
    const shop = await registered(registration(), { password: false });
    await expect(shop.terminal.personalData('read')).rejects.toMatchObject({ kind: 'no-card' });
    const none = await registered(undefined);
    await expect(none.terminal.personalData('read')).rejects.toMatchObject({ kind: 'not-registered' });
  });
});
