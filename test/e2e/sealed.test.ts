import { describe, expect, it } from 'vitest';
import { SimWorld } from '../../cli/sim-world.js';
import { fromUtf8, openDataKey, SEAL_KEY, Terminal, utf8 } from '../../core/index.js';
import type { NvStore } from '../../hal/index.js';
import { SimCardReader } from '../../hal-sim/index.js';
import { KEYRING, member, sceneEachTest, syncWithSim, withSim } from './scene.js';
import { TERMINAL_PASSWORD, userArea } from './world.js';

/**
 * Issue 19, sealed at rest: the attacker's notebook for the terminal's disk.
 * A terminal set to `sealed` keeps its personal data encrypted under a data
 * key that unwraps only with the registered SIM (its card secret), its PIN
 * (verified by the card) and the terminal password (core/auth/data-key.ts).
 */

const s = sceneEachTest();

const SECRET = 'Ann Example, +49 30 1234567, the door code is Wombat-Quokka';

/** Every byte on the terminal's disk, as a thief with the flash chip reads it. */
async function disk(nv: NvStore): Promise<string> {
  return (await nv.scan('')).map((e) => `${e.key}=${Buffer.from(e.value).toString('latin1')}`).join('\n');
}

describe('sealed at rest (issue 19)', () => {
  it('FIG. 16: the demount upload still reads the edits after the SIM left; then the key is gone ([0023])', async () => {
    const a = await member(s, 'a', { options: { sealed: true } });
    a.terminal.start();
    await s.world.insert(a, s.sim);
    await a.terminal.edit('contacts', 'ann', utf8(SECRET));
    await s.world.remove(a);
    expect(await userArea(s.world)).toEqual({ 'contacts/ann': SECRET });
    expect(a.agent.notices).toContainEqual(expect.objectContaining({ kind: 'sync-done', uploaded: 1 }));
    await expect(a.terminal.records.list('contacts')).rejects.toMatchObject({ kind: 'device-unavailable' });
  });

  it('FIG. 9 policy (PIN + password at every sync): the password is asked once per opening, not twice', async () => {
    const a = await member(s, 'a', { policy: 'fig9-pin-password', options: { sealed: true } });
    let asked = 0;
    const ask = a.agent.askTerminalPassword.bind(a.agent);
    a.agent.askTerminalPassword = async () => {
      asked++;
      return ask();
    };
    await withSim(s, a, () => a.terminal.sync());
    expect(asked).toBe(1);
  });

  it('a stolen disk shows none of the data; the owner with SIM, PIN and password sees all of it', async () => {
    const a = await member(s, 'a', { options: { sealed: true } });
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8(SECRET)));
    expect(await disk(a.nv)).not.toContain('Ann Example');
    expect(await disk(a.nv)).not.toContain('Wombat');
    expect(await a.nv.get(SEAL_KEY)).toBeDefined();
    // The SIM out: nothing opens, not even to the terminal password ([0023] at its strictest).
    await expect(a.terminal.personalData('read')).rejects.toMatchObject({ code: 'sealed' });
    await expect(a.terminal.records.list('contacts')).rejects.toMatchObject({ kind: 'device-unavailable' });
    // The SIM back in: the owner reads and syncs as ever.
    const read = await withSim(s, a, async () => (await a.terminal.personalData('read')).list('contacts'));
    expect(read.map((r) => fromUtf8(r.body as Uint8Array))).toEqual([SECRET]);
    await syncWithSim(s, a);
    expect(await userArea(s.world)).toEqual({ 'contacts/ann': SECRET });
  });

  it('the disk and the password without the SIM, or a SIM of the same subscriber without the secret, unwrap nothing', async () => {
    const a = await member(s, 'a', { options: { sealed: true } });
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8(SECRET)));
    const seal = (await a.nv.get(SEAL_KEY)) as Uint8Array;
    // A twin card (same IMSI and ICCID, as a cloner makes it) with its PIN known: no card secret on it.
    const twin = SimWorld.sim();
    const reader = new SimCardReader({ name: 'thief' });
    reader.insert(twin);
    const card = await reader.open();
    expect((await card.verifyPin(KEYRING.pin)).status).toBe('ok');
    await expect(openDataKey(card, TERMINAL_PASSWORD, a.terminal.terminalId, seal)).rejects.toMatchObject({
      code: 'seal-refused',
    });
    await card.close();
  });

  it('the right SIM with a wrong PIN, or with a wrong password, opens nothing; the card counts the PIN tries', async () => {
    const a = await member(s, 'a', { options: { sealed: true } });
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8(SECRET)));
    a.agent.keyring.pin = '0000';
    await expect(withSim(s, a, () => a.terminal.personalData('read'))).rejects.toMatchObject({
      code: 'pin-wrong',
    });
    a.agent.keyring.pin = KEYRING.pin;
    a.agent.keyring.terminalPassword = 'not-the-password';
    await expect(withSim(s, a, () => a.terminal.personalData('read'))).rejects.toMatchObject({
      code: 'password-wrong',
    });
    a.agent.keyring.terminalPassword = TERMINAL_PASSWORD;
    const read = await withSim(s, a, async () => (await a.terminal.personalData('read')).list('contacts'));
    expect(read).toHaveLength(1);
  });

  it("a stranger's SIM is refused before any PIN prompt and opens nothing", async () => {
    const a = await member(s, 'a', { options: { sealed: true } });
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8(SECRET)));
    const stranger = SimWorld.sim({ iccid: '8988211000000430028', imsi: '001010000000110' });
    a.reader.insert(stranger);
    try {
      await expect(a.terminal.personalData('read')).rejects.toMatchObject({ kind: 'auth-refused' });
      await expect(a.terminal.records.list('contacts')).rejects.toMatchObject({ kind: 'device-unavailable' });
    } finally {
      a.reader.remove();
    }
  });

  it('a plain store with data is sealed at the first opening once the terminal is set so; nothing is lost', async () => {
    const a = await member(s, 'a');
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8(SECRET)));
    expect(await disk(a.nv)).toContain('Ann Example');
    await a.terminal.stop();
    const again = await Terminal.create(
      { reader: a.reader, nv: a.nv, link: s.world.link(), clock: s.world.clock, agent: a.agent },
      { sealed: true, timeoutMs: 5000 },
    );
    s.own.push(again);
    const read = await withSim(s, a, async () => (await again.personalData('read')).list('contacts'));
    expect(read.map((r) => fromUtf8(r.body as Uint8Array))).toEqual([SECRET]);
    expect(await disk(a.nv)).not.toContain('Ann Example');
    expect(a.agent.notices.some((n) => n.kind === 'info' && /sealed at rest/.test(n.text))).toBe(true);
    // The dirty edit still goes up.
    a.reader.insert(s.sim);
    try {
      expect((await again.sync()).uploaded.map((u) => u.id)).toEqual(['ann']);
    } finally {
      a.reader.remove();
    }
  });

  it('a new terminal password re-wraps the data key: the new one opens it, the old one no longer', async () => {
    const a = await member(s, 'a', { options: { sealed: true } });
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8(SECRET)));
    await expect(a.terminal.setTerminalPassword('new-password-2', TERMINAL_PASSWORD)).rejects.toMatchObject({
      code: 'sealed',
    });
    await withSim(s, a, () => a.terminal.setTerminalPassword('new-password-2', TERMINAL_PASSWORD));
    a.agent.keyring.terminalPassword = 'new-password-2';
    const read = await withSim(s, a, async () => (await a.terminal.personalData('read')).list('contacts'));
    expect(read).toHaveLength(1);
    const seal = (await a.nv.get(SEAL_KEY)) as Uint8Array;
    const reader = new SimCardReader({ name: 'check' });
    reader.insert(s.sim);
    const card = await reader.open();
    await card.verifyPin(KEYRING.pin);
    await expect(openDataKey(card, TERMINAL_PASSWORD, a.terminal.terminalId, seal)).rejects.toMatchObject({
      code: 'seal-refused',
    });
    await expect(openDataKey(card, 'new-password-2', a.terminal.terminalId, seal)).resolves.toBeDefined();
    await card.close();
  });

  it('lost SIM: a new terminal registered with the new SIM gets the data back from the server', async () => {
    const a = await member(s, 'a', { options: { sealed: true } });
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8(SECRET)));
    await syncWithSim(s, a);
    // The operator issues a replacement SIM of the same subscription; it has no card secret.
    s.sim = SimWorld.sim();
    const b = await member(s, 'b', { options: { sealed: true } });
    await syncWithSim(s, b);
    const read = await withSim(s, b, async () => (await b.terminal.personalData('read')).list('contacts'));
    expect(read.map((r) => fromUtf8(r.body as Uint8Array))).toEqual([SECRET]);
    expect(await disk(b.nv)).not.toContain('Ann Example');
  });
});
