import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SyncServer, startSyncServer } from '../../broker/index.js';
import { KeyringAgent, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, fromUtf8, type PolicyName, utf8 } from '../../core/index.js';
import { ScriptedUserAgent, SimNvStore } from '../../hal-sim/index.js';
import { type Run, run as runCommand } from '../support/run-cli.js';

/**
 * Attacker's notebook, terminal side (issue 13 item 8; [0023]; README: "a
 * terminal that is not the user's can never read or write their data"). The
 * victim registered a PC with their SIM and keeps contacts on it; the
 * attacker sits at that PC with a SIM of their own, with no SIM, or after the
 * operator revoked the PC. Each test is one attack, made as a user makes it:
 * the `simsync terminal` one-shot commands, spawned against a real server.
 */

const OWNER = { iccid: '8988211000000430010', imsi: '001010000000102', pin: '1234' };
const STRANGER = { iccid: '8988211000000430028', imsi: '228062800000208', pin: '9999' };
const LOGIN = 'owner login password';
const TERMINAL_PASSWORD = 'owner-terminal-pw';
type Sim = typeof OWNER;

/** `node bin/simsync.js …args`, typing `answers` one a line, as a person at its prompts would. */
function simsync(args: string[], answers: string[] = [], umask?: string): Promise<Run> {
  if (umask === undefined) return runCommand('node', ['bin/simsync.js', ...args], answers);
  return runCommand('sh', ['-c', `umask ${umask} && exec node bin/simsync.js "$@"`, 'sh', ...args], answers);
}

let server: SyncServer;
let dir: string;

function terminalArgs(data: string, sim: Sim | undefined, ...command: string[]): string[] {
  const card = sim
    ? ['--card', 'sim', '--sim-iccid', sim.iccid, '--sim-imsi', sim.imsi, '--sim-pin', sim.pin]
    : ['--card', 'none'];
  return ['terminal', '--data', data, '--server', `mqtt://127.0.0.1:${server.port}`, ...card, ...command];
}

/** One-shot `simsync terminal … <command>` on the PC in `data`, with `sim` in its reader. */
function onPc(data: string, sim: Sim | undefined, command: string[], answers: string[] = []): Promise<Run> {
  return simsync(terminalArgs(data, sim, ...command), answers);
}

/** FIG. 8 first run through `simsync terminal … register`, answering every prompt. */
async function registerPc(data: string): Promise<void> {
  const run = await onPc(
    data,
    OWNER,
    ['--policy', 'fig10-subscriber-binding', 'register'],
    ['n', TERMINAL_PASSWORD, TERMINAL_PASSWORD, 'all', LOGIN, OWNER.pin, TERMINAL_PASSWORD],
  );
  expect(run.stdout, run.stderr).toContain(`Registered for subscriber ${OWNER.imsi}`);
}

/** A refusal as the CLI must give it: non-zero exit, one clear line on stderr, no stack trace. */
function expectRefused(run: Run, why: RegExp): void {
  expect(run.code, run.stdout).not.toBe(0);
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).toMatch(why);
  expect(`${run.stdout}${run.stderr}`).not.toMatch(/\n\s+at /);
}

function terminalIdOf(status: Run): string {
  const id = /^terminal\s+(\d+)/m.exec(status.stdout)?.[1];
  if (id === undefined) throw new Error(`no terminal ID in status:\n${status.stdout}\n${status.stderr}`);
  return id;
}

const pc = () => path.join(dir, 'pc');
const srv = () => path.join(dir, 'srv');

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-local-attack-'));
  // The server's data directory, as `simsync server --data` and `simsync admin --data` share it.
  mkdirSync(srv(), { recursive: true });
  server = await startSyncServer({
    store: openSqliteStore(path.join(srv(), 'simsync.db')),
    host: '127.0.0.1',
    port: 0,
  });
  await server.admin.addSubscriber({ subscriber: OWNER.imsi, iccid: OWNER.iccid, loginPassword: LOGIN });
  await server.admin.addSubscriber({
    subscriber: STRANGER.imsi,
    iccid: STRANGER.iccid,
    loginPassword: 'stranger login',
  });
  await registerPc(pc());
  const put = await onPc(
    pc(),
    OWNER,
    ['put', 'contacts', 'alice', 'BEGIN:VCARD\\nVERSION:4.0\\nFN:Alice Liddell\\nEND:VCARD'],
    [OWNER.pin],
  );
  expect(put.stdout, put.stderr).toContain('stored contacts/alice');
}, 120_000);

afterAll(async () => {
  await server?.close();
  await server?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the terminal's local store under attack (issue 13 item 8, [0023])", () => {
  it("a stranger's SIM in the reader lists nothing and asks no PIN", async () => {
    const run = await onPc(pc(), STRANGER, ['ls'], [STRANGER.pin]);
    expectRefused(run, /not the one registered with this terminal/);
    expect(run.stdout).not.toContain('alice');
    expect(run.stdout).not.toContain('SIM PIN');
  }, 60_000);

  it("a stranger's SIM reads no record, exports nothing, and changes, imports or erases nothing", async () => {
    const vcf = path.join(dir, 'planted.vcf');
    writeFileSync(vcf, 'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Mallory\r\nUID:planted\r\nEND:VCARD\r\n');
    const out = path.join(dir, 'stolen.vcf');
    for (const command of [
      ['get', 'contacts', 'alice'],
      ['export-vcard', out],
      ['put', 'contacts', 'alice', 'Mallory', 'was', 'here'],
      ['rm', 'contacts', 'alice'],
      ['import-vcard', vcf],
      ['erase', 'contacts', '--yes'],
    ]) {
      const run = await onPc(pc(), STRANGER, command, [STRANGER.pin]);
      expectRefused(run, /not the one registered with this terminal/);
      expect(run.stdout, command.join(' ')).not.toContain('Alice');
      expect(run.stdout, command.join(' ')).not.toContain('SIM PIN');
    }
    expect(existsSync(out)).toBe(false);
    // The owner's own SIM and PIN still open the data, unchanged.
    const mine = await onPc(pc(), OWNER, ['ls'], [OWNER.pin]);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout).toContain('contacts/alice');
    expect(mine.stdout).not.toContain('planted');
    const alice = await onPc(pc(), OWNER, ['get', 'contacts', 'alice'], [OWNER.pin]);
    expect(alice.stdout).toContain('Alice Liddell');
  }, 180_000);

  it("a stranger's SIM learns nothing from status: not the subscriber, not the data's counts", async () => {
    const run = await onPc(pc(), STRANGER, ['status'], [STRANGER.pin]);
    expect(run.stdout).toMatch(/^terminal\s+\d+/m);
    expect(run.stdout).not.toContain(OWNER.imsi);
    expect(run.stdout).not.toMatch(/pending\s+\d/);
    expect(run.stdout).not.toContain('SIM PIN');
    expect(run.stdout).toMatch(/not the one registered with this terminal/);
  }, 60_000);

  it('with no SIM, ls and get need the terminal password; a wrong one gives nothing', async () => {
    const wrong = await onPc(pc(), undefined, ['ls'], ['a guess']);
    expectRefused(wrong, /wrong terminal password/);
    expect(wrong.stdout).not.toContain('alice');
    const right = await onPc(pc(), undefined, ['get', 'contacts', 'alice'], [TERMINAL_PASSWORD]);
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toContain('Alice Liddell');
    // [0023]: and without the SIM nothing is changed, by default even with the password.
    const put = await onPc(pc(), undefined, ['put', 'contacts', 'bob', 'Bob'], [TERMINAL_PASSWORD]);
    expectRefused(put, /read-only while no SIM is mounted/);
  }, 120_000);

  it('a revoked terminal refuses get/ls/put/export', async () => {
    const lost = path.join(dir, 'lost');
    await registerPc(lost);
    const id = terminalIdOf(await onPc(lost, OWNER, ['status'], [OWNER.pin]));
    expect(
      (
        await onPc(
          lost,
          OWNER,
          ['put', 'contacts', 'carol', 'BEGIN:VCARD\\nVERSION:4.0\\nFN:Carol\\nEND:VCARD'],
          [OWNER.pin],
        )
      ).code,
    ).toBe(0);
    expect((await onPc(lost, OWNER, ['sync'], [OWNER.pin])).code).toBe(0);

    const revoke = await simsync(['admin', 'revoke', '--data', srv(), '--terminal', id]);
    expect(revoke.code, revoke.stderr).toBe(0);
    // The terminal learns it when the server refuses it (here, at the next sync)...
    const sync = await onPc(lost, OWNER, ['sync'], [OWNER.pin]);
    expect(sync.code).not.toBe(0);
    // ...and keeps that: from now on, nothing local opens, whoever asks, with no PIN asked.
    const out = path.join(dir, 'from-lost.vcf');
    for (const command of [
      ['ls'],
      ['get', 'contacts', 'carol'],
      ['put', 'contacts', 'dave', 'Dave'],
      ['export-vcard', out],
    ]) {
      const run = await onPc(lost, OWNER, command, [OWNER.pin]);
      expectRefused(run, /revoked/);
      expect(run.stdout, command.join(' ')).not.toContain('Carol');
      expect(run.stdout, command.join(' ')).not.toContain('SIM PIN');
    }
    const noSim = await onPc(lost, undefined, ['ls'], [TERMINAL_PASSWORD]);
    expectRefused(noSim, /revoked/);
    expect(existsSync(out)).toBe(false);
  }, 240_000);

  it('the NV files are readable by their owner only', async () => {
    const fresh = path.join(dir, 'fresh');
    // umask 000: any mode the code does not set itself would come out world-readable.
    const run = await simsync(terminalArgs(fresh, OWNER, 'status'), [OWNER.pin], '000');
    expect(run.stdout, run.stderr).toMatch(/^terminal\s+\d+/m);
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(fresh)).toBe(0o700);
    expect(mode(path.join(fresh, 'nv'))).toBe(0o700);
    expect(mode(path.join(fresh, 'nv', 'nv.log'))).toBe(0o600);
    // The stores made before now (here, the PC's) are tightened too.
    expect(mode(path.join(pc(), 'nv'))).toBe(0o700);
    expect(mode(path.join(pc(), 'nv', 'nv.log'))).toBe(0o600);
  }, 60_000);
});

describe('the same rules in the engine (core/engine, [0023])', () => {
  /** The victim's PC (FIG. 8 under `policy`) with Alice in its contacts, stopped: its flash, for the attacker's terminal. */
  async function victimsPc(world: SimWorld, policy: PolicyName): Promise<SimNvStore> {
    await world.server.admin.addSubscriber({ subscriber: OWNER.imsi, loginPassword: LOGIN });
    const nv = new SimNvStore();
    const keyring = new KeyringAgent({ pin: OWNER.pin, terminalPassword: TERMINAL_PASSWORD });
    const t = await world.addTerminal('pc', keyring, { nv });
    t.reader.insert(SimWorld.sim());
    await world.register(t, {
      policy,
      loginPassword: LOGIN,
      terminalPassword: TERMINAL_PASSWORD,
      categories: [...CATEGORIES],
    });
    await t.terminal.edit('contacts', 'alice', utf8('Alice'));
    t.reader.remove();
    await t.terminal.stop();
    return nv;
  }

  it('with no SIM, records open only to the terminal password', async () => {
    const world = await SimWorld.start();
    try {
      const nv = await victimsPc(world, 'fig10-subscriber-binding');

      const thief = new ScriptedUserAgent({ passwords: ['guess'] });
      const stolen = await world.addTerminal('stolen', thief, { nv });
      await expect(stolen.terminal.open('contacts', 'alice')).rejects.toMatchObject({
        kind: 'auth-refused',
        code: 'password-wrong',
      });
      expect(thief.prompts.map((p) => p.kind)).toEqual(['password']);

      thief.queuePassword(TERMINAL_PASSWORD);
      const opened = await stolen.terminal.open('contacts', 'alice');
      expect(fromUtf8(opened?.body ?? new Uint8Array())).toBe('Alice');
    } finally {
      await world.close();
    }
  });

  it("a stranger's SIM is refused before any PIN prompt, even under the FIG. 13 policy", async () => {
    const world = await SimWorld.start();
    try {
      const nv = await victimsPc(world, 'fig13-server-only');

      const stranger = new ScriptedUserAgent({ pins: [STRANGER.pin], passwords: [TERMINAL_PASSWORD] });
      const at = await world.addTerminal('at-the-pc', stranger, { nv });
      at.reader.insert(SimWorld.sim(STRANGER));
      await expect(at.terminal.open('contacts', 'alice')).rejects.toMatchObject({
        kind: 'auth-refused',
        code: 'subscriber-mismatch',
      });
      await expect(at.terminal.edit('contacts', 'alice', utf8('Mallory'))).rejects.toMatchObject({
        kind: 'auth-refused',
      });
      expect(stranger.prompts).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
