import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyringAgent, type SimTerminal, type SimWorld } from '../../cli/sim-world.js';
import {
  CATEGORIES,
  fromUtf8,
  type PolicyName,
  type SyncReport,
  Terminal,
  type TerminalOptions,
  utf8,
} from '../../core/index.js';
import { VpcdRig } from '../../hal-pcsc/vpcd-test-rig.js';
import { SimNvStore } from '../../hal-sim/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { ids, nextReport, registeredTerminal, subscriberWorld } from './scene.js';
import { LOGIN, TERMINAL_PASSWORD, terminalData, userArea } from './world.js';

/**
 * FIG. 16 with terminal 10a built like a PC with a USB smart-card reader:
 * its card reader is hal-pcsc on the real pcscd, the SIM a virtual UICC put
 * into vsmartcard-vpcd's reader. 10b is simulated. It is one SIM (one
 * VirtualUicc, one EEPROM) moving between the two; the server is real, over TCP.
 */
let world: SimWorld;
let sim: VirtualUicc;
let rig: VpcdRig;
let pc: Terminal;
/** PC terminals to stop after the test (`pc` of a failed set-up may be a previous test's). */
const pcs: Terminal[] = [];

const agent = () => new KeyringAgent({ pin: '1234', terminalPassword: TERMINAL_PASSWORD });
/** pcscd announces the card asynchronously (~400 ms poll): the report comes after the insertion. */
async function mountPc(): Promise<SyncReport> {
  const report = nextReport(pc, 'mount');
  await rig.insertCard(sim);
  return report;
}

async function demountPc(): Promise<SyncReport> {
  const report = nextReport(pc, 'demount');
  await rig.remove();
  return report;
}

async function mountSim(t: SimTerminal): Promise<SyncReport> {
  const report = nextReport(t.terminal, 'mount');
  await world.insert(t, sim);
  return report;
}

async function demountSim(t: SimTerminal): Promise<SyncReport> {
  const report = nextReport(t.terminal, 'demount');
  await world.remove(t);
  return report;
}

/** First set-up of the PC with the SIM in its reader (FIG. 8 with 10-A or 11-A), then following the card. */
async function setUpPc(
  policy: PolicyName,
  options: TerminalOptions = {},
  nv = new SimNvStore(),
): Promise<void> {
  pc = await Terminal.create(
    { reader: rig.reader, nv, link: world.link(), clock: world.clock, agent: agent() },
    { timeoutMs: 5000, ...options },
  );
  pcs.push(pc);
  await rig.insertCard(sim);
  await pc.setTerminalPassword(TERMINAL_PASSWORD);
  await pc.register({ policy, secret: LOGIN, categories: [...CATEGORIES] });
  await pc.stop();
  await rig.remove();
  pc.start();
}

beforeEach(async () => {
  rig = await VpcdRig.start();
  ({ world, sim } = await subscriberWorld());
});

afterEach(async () => {
  for (const t of pcs.splice(0)) await t.stop();
  await rig?.stop();
  await world?.close();
});

describe('FIG. 16 with a PC/SC terminal: one SIM moved between a PC reader and a simulated terminal', () => {
  it('each mount downloads what that terminal lacks; each demount uploads its update', async () => {
    await setUpPc('fig10-subscriber-binding');
    const b = await registeredTerminal(world, sim, '10b');

    // T0: SIM in the PC's reader, user area empty ([0059]).
    expect(ids(await mountPc(), 'downloaded')).toEqual([]);
    await pc.edit('contacts', 'a1', utf8('Alice'));
    // T1: pulling the SIM out of the reader uploads a1 ([0060]).
    expect(ids(await demountPc(), 'uploaded')).toEqual(['a1']);
    expect(await userArea(world)).toEqual({ 'contacts/a1': 'Alice' });

    // [0061]: on 10b a1 comes down; b1 goes up.
    expect(ids(await mountSim(b), 'downloaded')).toEqual(['a1']);
    await b.terminal.edit('mail', 'b1', utf8('Hello'));
    expect(ids(await demountSim(b), 'uploaded')).toEqual(['b1']);

    // [0063]: back in the PC's reader only b1 is new; a2 goes up.
    expect(ids(await mountPc(), 'downloaded')).toEqual(['b1']);
    await pc.edit('browser', 'a2', utf8('https://example.org'));
    expect(ids(await demountPc(), 'uploaded')).toEqual(['a2']);

    expect(ids(await mountSim(b), 'downloaded')).toEqual(['a2']);
    expect(await terminalData(b)).toEqual(await userArea(world));
    const onPc: Record<string, string> = {};
    for (const c of CATEGORIES)
      for (const r of await pc.records.list(c)) if (r.body) onPc[`${c}/${r.id}`] = fromUtf8(r.body);
    expect(onPc).toEqual({ 'contacts/a1': 'Alice', 'mail/b1': 'Hello', 'browser/a2': 'https://example.org' });
  });

  it('FIG. 11-A/B: both terminals put their IDs on the SIM through their readers and sync by that list', async () => {
    await setUpPc('fig11-terminal-list');
    const b = await registeredTerminal(world, sim, '10b', { policy: 'fig11-terminal-list' });
    expect(ids(await mountPc(), 'downloaded')).toEqual([]);
    await pc.edit('pim', 'p1', utf8('Dentist 10:00'));
    expect(ids(await demountPc(), 'uploaded')).toEqual(['p1']);
    expect(ids(await mountSim(b), 'downloaded')).toEqual(['p1']);
    await demountSim(b);
    // The list lives on the card (EF 6F01), written once through pcscd and once through the simulated slot.
    expect(sim.snapshot().terminalIdRecords?.filter((r) => r[0] !== 0xff)).toHaveLength(2);
  });

  it('issue 19 through pcscd: the SIM answers the AKA challenge in the PC reader, and both terminals keep the data sealed', async () => {
    await world.close();
    ({ world, sim } = await subscriberWorld({}, { aka: true }));
    const pcDisk = new SimNvStore();
    await setUpPc('fig10-subscriber-binding', { sealed: true }, pcDisk);
    const b = await registeredTerminal(world, sim, '10b', { options: { sealed: true } });

    expect(ids(await mountPc(), 'downloaded')).toEqual([]);
    const afterPcMount = Math.max(...(sim.snapshot().seqMs ?? []));
    expect(afterPcMount).toBeGreaterThan(0);
    await pc.edit('contacts', 'a1', utf8('Alice, door code Wombat-Quokka'));
    expect(ids(await demountPc(), 'uploaded')).toEqual(['a1']);
    expect(ids(await mountSim(b), 'downloaded')).toEqual(['a1']);
    expect(Math.max(...(sim.snapshot().seqMs ?? []))).toBeGreaterThan(afterPcMount);
    await demountSim(b);
    expect(await userArea(world)).toEqual({ 'contacts/a1': 'Alice, door code Wombat-Quokka' });
    for (const disk of [pcDisk, b.nv]) {
      const bytes = (await disk.scan('')).map((e) => Buffer.from(e.value).toString('latin1')).join('');
      expect(bytes).not.toContain('Wombat');
    }
    // The card secret went onto the SIM once, through pcscd; both terminals use it.
    const secretEntries = (sim.snapshot().terminalIdRecords ?? []).filter((r) => r[1] === 0x23);
    expect(secretEntries).toHaveLength(3);
  });
});
