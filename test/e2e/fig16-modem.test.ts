import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyringAgent, type SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, type SyncReport, Terminal, type TerminalOptions, utf8 } from '../../core/index.js';
import { Modem, SimModemHost } from '../../hal-modem/index.js';
import { SimNvStore } from '../../hal-sim/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { ids, nextReport, registeredTerminal, subscriberWorld } from './scene.js';
import { LOGIN, TERMINAL_PASSWORD, terminalData, userArea } from './world.js';

/**
 * FIG. 16 with one terminal built like a Raspberry Pi with a modem: its card
 * reader, radio link status and SIM are the modem HAL over a real tty (a
 * simulated Quectel modem on a socat pty pair); the data path is TCP.
 */
let world: SimWorld;
let sim: VirtualUicc;
let host: SimModemHost;
let modem: Modem;
let pi: Terminal;
let piDisk: SimNvStore;

const agent = () => new KeyringAgent({ pin: '1234', terminalPassword: TERMINAL_PASSWORD });

/** The modem announces the card asynchronously, over the tty: the report comes after the insertion. */
async function mountPi(): Promise<SyncReport> {
  const report = nextReport(pi, 'mount');
  host.modem.insertCard(sim);
  return report;
}

async function demountPi(): Promise<SyncReport> {
  const report = nextReport(pi, 'demount');
  host.modem.removeCard();
  return report;
}

/** The world, the modem and the Pi registered; with `aka` the SIM's key is on the server (issue 19). */
async function setUp(o: { aka?: boolean; options?: TerminalOptions } = {}): Promise<void> {
  ({ world, sim } = await subscriberWorld({}, { aka: o.aka }));
  host = await SimModemHost.start({ dialect: 'quectel' });
  piDisk = new SimNvStore();
  modem = await Modem.open({ path: host.path, timeoutMs: 2000, settleMs: 300, reopenMs: 50 });
  const link = modem.radioLink({ connect: () => world.link().open(), pollMs: 0 });
  await link.refresh();
  pi = await Terminal.create(
    { reader: modem.reader, nv: piDisk, link, clock: world.clock, agent: agent() },
    { timeoutMs: 5000, ...o.options },
  );
  // First set-up on the Pi, SIM in its modem (FIG. 8 / 10-A).
  host.modem.insertCard(sim);
  await vi.waitFor(() => expect(modem.reader.present()).toBe(true), { timeout: 5000, interval: 5 });
  await pi.setTerminalPassword(TERMINAL_PASSWORD);
  await pi.register({ policy: 'fig10-subscriber-binding', secret: LOGIN, categories: [...CATEGORIES] });
  host.modem.removeCard();
  await vi.waitFor(() => expect(modem.reader.present()).toBe(false), { timeout: 5000, interval: 5 });
  pi.start();
}

afterEach(async () => {
  if (pi === undefined) return;
  await pi.settled();
  await pi.stop();
  await modem.close();
  await host.close();
  await world.close();
});

describe('FIG. 16 with a modem terminal ([0058]–[0066])', () => {
  it('the SIM moves between a simulated terminal and the Pi modem terminal; each sync carries the differences', async () => {
    await setUp();
    const a = await registeredTerminal(world, sim, '10a');

    // T0–T1 on 10a.
    a.reader.insert(sim);
    await a.terminal.settled();
    await a.terminal.edit('contacts', 'a1', utf8('Alice'));
    a.reader.remove();
    await a.terminal.settled();
    expect(await userArea(world)).toEqual({ 'contacts/a1': 'Alice' });

    // [0061]: the SIM goes into the Pi's modem: mount downloads a1 (PIN entered through AT+CPIN).
    expect(ids(await mountPi(), 'downloaded')).toEqual(['a1']);
    expect(host.modem.commands()).toContain('AT+CPIN="1234"');
    await pi.edit('mail', 'p1', utf8('Hello from the Pi'));
    // Pulling the SIM out of the modem (+QSIMSTAT: 1,0) uploads p1.
    expect(ids(await demountPi(), 'uploaded')).toEqual(['p1']);
    expect(await userArea(world)).toEqual({ 'contacts/a1': 'Alice', 'mail/p1': 'Hello from the Pi' });

    // [0063]: back on 10a, only p1 is new there.
    a.reader.insert(sim);
    await a.terminal.settled();
    await a.terminal.edit('pim', 'a2', utf8('Dentist 10:00'));
    a.reader.remove();
    await a.terminal.settled();

    // The Pi again: only a2 comes down.
    expect(ids(await mountPi(), 'downloaded')).toEqual(['a2']);
    expect(await terminalData(a)).toEqual(await userArea(world));
    expect(await terminalData({ terminal: pi })).toEqual(await userArea(world));
  });

  it('issue 19 over AT+CSIM: the SIM in the modem answers the AKA challenge; the Pi keeps its data sealed', async () => {
    await setUp({ aka: true, options: { sealed: true } });
    const before = Math.max(...(sim.snapshot().seqMs ?? []));
    expect(ids(await mountPi(), 'downloaded')).toEqual([]);
    expect(Math.max(...(sim.snapshot().seqMs ?? []))).toBeGreaterThan(before);
    // The challenge went to the card as an APDU: AUTHENTICATE, 00 88 00 81, inside AT+CSIM.
    expect(host.modem.commands().some((c) => /^AT\+CSIM=\d+,"00880081/i.test(c))).toBe(true);
    await pi.edit('mail', 'p1', utf8('Hello from the Pi, word Wombat-Quokka'));
    expect(ids(await demountPi(), 'uploaded')).toEqual(['p1']);
    expect(await userArea(world)).toEqual({ 'mail/p1': 'Hello from the Pi, word Wombat-Quokka' });
    const bytes = (await piDisk.scan('')).map((e) => Buffer.from(e.value).toString('latin1')).join('');
    expect(bytes).not.toContain('Wombat');
  });
});
