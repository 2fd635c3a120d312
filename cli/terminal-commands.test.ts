import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SyncServer, startSyncServer } from '../broker/index.js';
import { registerTerminal, simsync, terminalArgs } from '../test/support/run-cli.js';

/**
 * `simsync terminal` one-shot commands as people read them (issue 16
 * "Expected"): `ls` names each record, `erase` asks first (or takes
 * --yes), `-q` keeps to what needs the user.
 */
const IMSI = '001010000000102';
const ICCID = '8988211000000430010';
const LOGIN = 'commands-login-1';
const PASSWORD = 'commands-pw-1';

let dir: string;
let server: SyncServer;

const terminal = (...command: string[]) => terminalAt('pc', ...command);

const terminalAt = (name: string, ...command: string[]) =>
  terminalArgs(path.join(dir, name), server.port, ...command);

async function register(name: string): Promise<void> {
  const r = await registerTerminal(path.join(dir, name), server.port, { login: LOGIN, password: PASSWORD });
  expect(r.stdout, r.stderr).toContain(`Registered for subscriber ${IMSI}`);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-commands-'));
  server = await startSyncServer({ store: openSqliteStore(':memory:'), host: '127.0.0.1', port: 0 });
  await server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
  await register('pc');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await server?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('simsync terminal, one command at a time', () => {
  it('ls shows each record by name (FN, SUMMARY), not only by ID', async () => {
    const card = 'BEGIN:VCARD\\nVERSION:4.0\\nFN:Alice Liddell\\nEND:VCARD';
    expect((await simsync(terminal('put', 'contacts', 'c-1', card), ['1234'])).code).toBe(0);
    const event =
      'BEGIN:VCALENDAR\\nVERSION:2.0\\nBEGIN:VEVENT\\nSUMMARY:Tea party\\nEND:VEVENT\\nEND:VCALENDAR';
    expect((await simsync(terminal('put', 'pim', 'e-1', event), ['1234'])).code).toBe(0);
    const ls = await simsync(terminal('ls'), ['1234']);
    expect(ls.stdout, ls.stderr).toMatch(/^contacts\/c-1\s+Alice Liddell\s+\d+ bytes\s+not synced$/m);
    expect(ls.stdout).toMatch(/^pim\/e-1\s+Tea party\s+\d+ bytes\s+not synced$/m);
  }, 60_000);

  it('erase asks first: without a terminal to ask it needs --yes, and erases nothing', async () => {
    const asked = await simsync(terminal('erase', 'contacts'), ['1234']);
    expect(asked.code).toBe(1);
    expect(asked.stderr).toMatch(/give --yes to do it without a question/);
    expect((await simsync(terminal('ls', 'contacts'), ['1234'])).stdout).toContain('contacts/c-1');
    const erased = await simsync(terminal('--yes', 'erase', 'contacts'), ['1234']);
    expect(erased.code, erased.stderr).toBe(0);
    expect(erased.stdout).toMatch(
      /erased 1 record\(s\) of contacts after uploading \d+; the server keeps them/,
    );
    expect((await simsync(terminal('ls', 'contacts'), ['1234'])).stdout).not.toContain('contacts/c-1');
  }, 60_000);

  it('-q leaves out the news (synced lines, progress), keeps prompts and problems', async () => {
    const loud = await simsync(terminal('sync'), ['1234']);
    expect(loud.stdout, loud.stderr).toMatch(/synced: \d+ up/);
    const quiet = await simsync(['-q', ...terminal('sync')], ['1234']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toContain('SIM PIN');
    expect(quiet.stdout).not.toContain('synced');
  }, 60_000);
});

describe('conflicts as a first-class thing ([0044], [0068])', () => {
  it('conflicts lists both versions with their terminal and time; resolve --keep mine makes mine the record everywhere', async () => {
    await register('laptop');
    const on = (name: string, ...command: string[]) => simsync(terminalAt(name, ...command), ['1234']);
    expect((await on('pc', 'put', 'pim', 'plan', 'meet at 10')).code).toBe(0);
    expect((await on('pc', 'sync')).code).toBe(0);
    expect((await on('laptop', 'sync')).code).toBe(0);
    // Edited on both since their common base; the laptop's edit is the later one and wins.
    expect((await on('pc', 'put', 'pim', 'plan', 'meet at 11')).code).toBe(0);
    expect((await on('laptop', 'put', 'pim', 'plan', 'meet at noon')).code).toBe(0);
    expect((await on('laptop', 'sync')).code).toBe(0);
    expect((await on('pc', 'sync')).code).toBe(0);
    const status = await on('pc', 'status');
    expect(status.stdout).toMatch(/^conflicts\s+1$/m);
    const listed = await on('pc', 'conflicts');
    expect(listed.stdout, listed.stderr).toMatch(/^1\) pim\/plan$/m);
    expect(listed.stdout).toMatch(
      /kept as the record: "meet at noon", edited \S+Z \(from another terminal\)/,
    );
    expect(listed.stdout).toMatch(/kept as a copy:\s+"meet at 11", edited \S+Z, from this terminal/);
    const resolved = await on('pc', 'resolve', '1', '--keep', 'mine');
    expect(resolved.stdout, resolved.stderr).toContain('resolved pim/plan: kept the copy (mine)');
    expect((await on('pc', 'sync')).code).toBe(0);
    expect((await on('pc', 'conflicts')).stdout).toContain('no conflicts');
    expect((await on('laptop', 'sync')).code).toBe(0);
    expect((await on('laptop', 'get', 'pim', 'plan')).stdout).toContain('meet at 11');
    expect((await on('laptop', 'conflicts')).stdout).toContain('no conflicts');
  }, 180_000);
});
