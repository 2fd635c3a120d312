import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SyncServer, startSyncServer } from '../broker/index.js';
import { CLI_SIM, registerTerminal, simsync, terminalArgs } from '../test/support/run-cli.js';
import { directTransport, UiccSession, type VirtualCardMemory } from '../uicc/index.js';
import { openVirtualSim, VIRTUAL_SIM_FILE } from './virtual-sim-file.js';

/**
 * `--card sim` keeps its card's memory in `<data>/virtual-sim.json`, as a
 * person keeps a real SIM between two runs of `simsync terminal`: the
 * FIG. 11-A list written at registration, the PIN tries, the card secret
 * that opens data sealed at rest.
 */
const LOGIN = 'virtual-sim-login-1';
const PASSWORD = 'virtual-sim-pw-1';
/** Another card than CLI_SIM (Luhn-valid), the same subscriber. */
const OTHER_ICCID = '8988211000000430028';

let dir: string;

/** The cards of a `virtual-sim.json`, by ICCID. */
function cardsIn(file: string): Map<string, VirtualCardMemory> {
  const { cards } = JSON.parse(readFileSync(file, 'utf8')) as { cards: VirtualCardMemory[] };
  return new Map(cards.map((c) => [c.iccid, c]));
}
const cardIn = (file: string): VirtualCardMemory => cardsIn(file).get(CLI_SIM.iccid)!;

let server: SyncServer;

const dataOf = (name: string) => path.join(dir, name);
const simFile = (name: string) => path.join(dataOf(name), VIRTUAL_SIM_FILE);
const on = (name: string, command: string[], input: string[] = []) =>
  simsync(terminalArgs(dataOf(name), server.port, ...command), input);

/** The first-run walk-through with `flags` (a policy, --sealed), as a user types it. */
async function register(name: string, ...flags: string[]): Promise<void> {
  const answers = ['n', PASSWORD, PASSWORD, 'all', LOGIN, CLI_SIM.pin, PASSWORD];
  const r = await on(name, [...flags, 'register'], answers);
  expect(r.stdout, r.stderr).toContain(`Registered for subscriber ${CLI_SIM.imsi}`);
}

/** The same data directory without the card's memory: the forgetful virtual SIM of before. */
function copyWithoutMemory(from: string, to: string): void {
  cpSync(dataOf(from), dataOf(to), { recursive: true });
  rmSync(simFile(to));
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-virtual-sim-'));
  server = await startSyncServer({ store: openSqliteStore(':memory:'), host: '127.0.0.1', port: 0 });
  await server.admin.addSubscriber({ subscriber: CLI_SIM.imsi, iccid: CLI_SIM.iccid, loginPassword: LOGIN });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await server?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('simsync terminal --card sim: the virtual SIM remembers between runs', () => {
  it('FIG. 11-A/B: the terminal ID written onto the SIM at registration is still listed in the next run', async () => {
    await register('listed', '--policy', 'fig11-terminal-list');
    const ids = cardIn(simFile('listed')).records['3F00/7FDE/6F01']!;
    expect(ids.filter((r) => !/^F+$/.test(r))).toHaveLength(1);
    const sync = await on('listed', ['sync'], [CLI_SIM.pin]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/synced: \d+ up/);
    // Without the file the card forgets the list, and FIG. 11-B refuses this terminal.
    copyWithoutMemory('listed', 'forgetful');
    const refused = await on('forgetful', ['sync'], [CLI_SIM.pin]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('this terminal is not associated with the SIM');
  }, 120_000);

  it("the file is the owner's only (0600), written whole (no temporary file left)", () => {
    expect(statSync(simFile('listed')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataOf('listed')).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('three wrong PINs in three runs block the PIN, a fourth run finds it blocked; the PUK in a fifth sets a PIN the sixth uses', async () => {
    await registerTerminal(dataOf('pins'), server.port, { login: LOGIN, password: PASSWORD });
    const tries = async () => cardIn(simFile('pins')).pin1.retriesLeft;
    for (const left of [2, 1]) {
      const r = await on('pins', ['sync'], ['0000']);
      expect(r.stdout, r.stderr).toContain(`wrong PIN: ${left} tr`);
      expect(await tries()).toBe(left);
    }
    const third = await on('pins', ['sync'], ['0000']);
    expect(third.stderr).toContain('the SIM PIN is now blocked');
    expect(await tries()).toBe(0);
    const fourth = await on('pins', ['sync'], [CLI_SIM.pin]);
    expect(fourth.code).toBe(1);
    expect(fourth.stderr).toContain('the SIM PIN is blocked');
    const unblocked = await on('pins', ['unblock'], ['12345678', '4321', '4321']);
    expect(unblocked.stdout, unblocked.stderr).toContain('SIM PIN unblocked');
    // --sim-pin 1234 only personalised the card once: the PIN is now the one set with the PUK.
    const sync = await on('pins', ['sync'], ['4321']);
    expect(sync.code, sync.stderr).toBe(0);
  }, 180_000);

  it('issue 19: data sealed at rest in one run opens in the next, and the disk holds no plaintext', async () => {
    await register('sealed', '--sealed', '--policy', 'fig10-subscriber-binding');
    const card = 'BEGIN:VCARD\\nVERSION:4.0\\nFN:Zebedee Quartz\\nEND:VCARD';
    const put = await on('sealed', ['--sealed', 'put', 'contacts', 'c-1', card], [CLI_SIM.pin, PASSWORD]);
    expect(put.code, put.stderr).toBe(0);
    const ls = await on('sealed', ['--sealed', 'ls'], [CLI_SIM.pin, PASSWORD]);
    expect(ls.stdout, ls.stderr).toMatch(/^contacts\/c-1\s+Zebedee Quartz/m);
    const files = filesUnder(path.join(dataOf('sealed'), 'nv'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(f).includes('Zebedee'), f).toBe(false);
    // The card secret lives on the card, so without its memory nothing opens.
    copyWithoutMemory('sealed', 'sealed-forgetful');
    const closed = await on('sealed-forgetful', ['--sealed', 'ls'], [CLI_SIM.pin, PASSWORD]);
    expect(closed.code).toBe(1);
    expect(closed.stdout).not.toContain('Zebedee');
    expect(closed.stderr).toContain('holds no card secret');
  }, 180_000);

  it('another SIM in the same terminal is another card: it starts fresh and leaves the first one as it was', async () => {
    const before = cardIn(simFile('listed'));
    const other = terminalArgs(dataOf('listed'), server.port, 'sync');
    other[other.indexOf(CLI_SIM.iccid)] = OTHER_ICCID;
    const wrong = await simsync(other, ['0000']);
    expect(wrong.stdout, wrong.stderr).toContain('SIM PIN (3 tries left)');
    const cards = cardsIn(simFile('listed'));
    expect([...cards.keys()].sort()).toEqual([CLI_SIM.iccid, OTHER_ICCID]);
    expect(cards.get(OTHER_ICCID)!.pin1.retriesLeft).toBe(2);
    expect(cards.get(CLI_SIM.iccid)).toEqual(before);
    const mine = await on('listed', ['sync'], [CLI_SIM.pin]);
    expect(mine.code, mine.stderr).toBe(0);
  }, 60_000);

  it('a card of the same ICCID with another IMSI, or a damaged file, is one line naming the file to remove', async () => {
    const other = terminalArgs(dataOf('listed'), server.port, 'status');
    other[other.indexOf(CLI_SIM.imsi)] = '001010000000999';
    const mismatch = await simsync(other);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr.trim().split('\n')).toHaveLength(1);
    expect(mismatch.stderr).toContain(`${CLI_SIM.iccid} with IMSI ${CLI_SIM.imsi}, not 001010000000999`);
    expect(mismatch.stderr).toContain(`remove ${simFile('listed')}`);

    mkdirSync(dataOf('damaged'));
    writeFileSync(simFile('damaged'), '{"version": 1');
    const damaged = await on('damaged', ['status']);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/virtual-sim\.json is not a virtual SIM file .*: remove /);

    const card = cardIn(simFile('listed'));
    writeFileSync(
      simFile('damaged'),
      JSON.stringify({ version: 1, cards: [{ ...card, pin1: { ...card.pin1, retriesLeft: 9 } }] }),
    );
    const tampered = await on('damaged', ['status']);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/virtual-sim\.json: card memory: PIN1 tries left .*: remove /);
  }, 60_000);
});

describe('openVirtualSim: when the memory is written', () => {
  const profile = { iccid: CLI_SIM.iccid, imsi: CLI_SIM.imsi };

  it('after each change, before the card answers, and at close when nothing was saved yet', async () => {
    const data = mkdtempSync(path.join(dir, 'unit-'));
    const sim = openVirtualSim(data, profile, () => {});
    expect(existsSync(path.join(data, VIRTUAL_SIM_FILE))).toBe(false);
    const session = await UiccSession.open(directTransport(sim.card), sim.card.powerOn());
    await session.verifyPin('0000');
    expect(cardIn(sim.file).pin1.retriesLeft).toBe(2);
    sim.close();
    const again = openVirtualSim(data, profile, () => {});
    expect(again.card.memory().pin1.retriesLeft).toBe(2);
    rmSync(again.file);
    again.close(); // nothing changed since it was read: not written again
    expect(existsSync(again.file)).toBe(false);
    const fresh = mkdtempSync(path.join(dir, 'unit-'));
    openVirtualSim(fresh, profile, () => {}).close();
    expect(statSync(path.join(fresh, VIRTUAL_SIM_FILE)).mode & 0o777).toBe(0o600);
  });

  it('a write that fails is told once and done at close once it can be', async () => {
    const data = mkdtempSync(path.join(dir, 'unit-'));
    const warnings: string[] = [];
    const sim = openVirtualSim(data, profile, (line) => warnings.push(line));
    rmSync(data, { recursive: true });
    const session = await UiccSession.open(directTransport(sim.card), sim.card.powerOn());
    expect(await session.verifyPin('0000')).toMatchObject({ status: 'wrong', retriesLeft: 2 });
    expect(await session.verifyPin('0000')).toMatchObject({ status: 'wrong', retriesLeft: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`could not be saved to ${sim.file}`);
    mkdirSync(data);
    sim.close();
    expect(cardIn(sim.file).pin1.retriesLeft).toBe(1);
  });
});
