import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SyncServer, startSyncServer } from '../broker/index.js';

/**
 * The terminal agent driven as a person drives it: in a real pseudo-terminal
 * (tmux), typing at its prompts and reading its screen.
 */
const IMSI = '001010000000102';
const ICCID = '8988211000000430010';
const LOGIN = 'tmux-login-1';

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', args, { encoding: 'utf8', timeout: 10_000 });
  if (result.error)
    throw new Error(`tmux is needed for these tests (Debian package tmux): ${result.error.message}`);
  return result.stdout;
}

class Screen {
  constructor(readonly session: string) {}

  static start(session: string, command: string): Screen {
    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '50', command);
    return new Screen(session);
  }

  text(): string {
    return tmux('capture-pane', '-p', '-S', '-200', '-t', this.session);
  }

  type(line: string): void {
    tmux('send-keys', '-t', this.session, '-l', line);
    tmux('send-keys', '-t', this.session, 'Enter');
  }

  async waitFor(pattern: RegExp | string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.text();
      if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`screen never showed ${pattern}:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.session]);
  }
}

let server: SyncServer;
let dir: string;
const screens: Screen[] = [];

function agent(name: string, data: string, extra = ''): Screen {
  const cmd = `cd ${process.cwd()} && node bin/simsync.js terminal --data ${data} --server mqtt://127.0.0.1:${server.port} --sim-iccid ${ICCID} --sim-imsi ${IMSI} --sim-pin 1234 ${extra}; echo AGENT-EXITED-$?; sleep 30`;
  const screen = Screen.start(`simsync-${name}-${process.pid}`, cmd);
  screens.push(screen);
  return screen;
}

async function firstRun(screen: Screen, password = 'pw-1234'): Promise<void> {
  await screen.waitFor('Registered at a shop');
  screen.type('n');
  await screen.waitFor('Choose a terminal password');
  screen.type(password);
  await screen.waitFor('Repeat it');
  screen.type(password);
  await screen.waitFor('Policy [2]');
  screen.type('2');
  await screen.waitFor('Categories, comma separated');
  screen.type('all');
  await screen.waitFor('Login password or one-time code');
  screen.type(LOGIN);
  await screen.waitFor('SIM PIN');
  screen.type('1234');
  await screen.waitFor('Terminal password:');
  screen.type(password);
  await screen.waitFor(`Registered for subscriber ${IMSI}`);
}

function wrongPinTerminalId(screenText: string): string {
  const match = /This terminal \(ID (\d+)\)/.exec(screenText);
  if (!match?.[1]) throw new Error(`no terminal ID on screen:\n${screenText}`);
  return match[1];
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-pty-'));
  server = await startSyncServer({ store: openSqliteStore(':memory:'), host: '127.0.0.1', port: 0 });
  await server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
});

afterAll(async () => {
  for (const s of screens) s.kill();
  await server.close();
  await server.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('simsync terminal in a pseudo-terminal', () => {
  it('FIG. 8 first run: secrets are not echoed, registration succeeds, a sync runs', async () => {
    const screen = agent('first', path.join(dir, 'a'));
    await firstRun(screen, 'secret-pw-1');
    await screen.waitFor('type help');
    screen.type('status');
    const text = await screen.waitFor('last sync');
    expect(text).toContain('fig10-subscriber-binding, subscriber 001010000000102');
    expect(text).not.toContain('secret-pw-1');
    expect(text).not.toContain(LOGIN);
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');

    // Started again, the agent asks for the PIN of the newly powered card ([0036]) and syncs at mount.
    const again = agent('again', path.join(dir, 'a'));
    await again.waitFor('SIM PIN');
    again.type('1234');
    await again.waitFor(/synced: 0 up, 0 down/);
    again.type('quit');
    await again.waitFor('AGENT-EXITED-0');
  });

  it('a wrong PIN is refused by the card and nothing is registered', async () => {
    const screen = agent('wrongpin', path.join(dir, 'b'));
    await screen.waitFor('Registered at a shop');
    for (const answer of ['n', 'pw-5678', 'pw-5678', '2', 'all', LOGIN, '0000']) {
      await new Promise((r) => setTimeout(r, 150));
      screen.type(answer);
    }
    const text = await screen.waitFor('AGENT-EXITED-1');
    expect(text).toContain('wrong PIN: 2 tries left');
    expect((await server.admin.listTerminals(IMSI)).map((t) => t.terminalId)).not.toContain(
      wrongPinTerminalId(text),
    );
  });

  it('a vCard file imported on one terminal appears on a second, with a progress bar on a long download', async () => {
    const vcf = path.join(dir, 'many.vcf');
    const cards = Array.from(
      { length: 1500 },
      (_, i) =>
        `BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Person ${i}\r\nUID:urn:uuid:pty-${i}\r\nNOTE:${'x'.repeat(400)}\r\nEND:VCARD\r\n`,
    );
    writeFileSync(vcf, cards.join(''));
    const first = agent('import', path.join(dir, 'd'));
    await firstRun(first, 'import-pw-1');
    await first.waitFor('type help');
    first.type(`import-vcard ${vcf}`);
    await first.waitFor('imported 1500 contact(s)');
    first.type('sync');
    await first.waitFor(/synced: \d+ up/);
    first.type('status');
    await first.waitFor(/pending\s+0 change/);
    first.type('quit');
    await first.waitFor('AGENT-EXITED-0');

    const second = agent('second', path.join(dir, 'e'));
    await firstRun(second, 'other-pw-9');
    const text = await second.waitFor(/synced: \d+ up, 1500 down/, 60_000);
    expect(text).toMatch(/download\s+\[[=█░ -]+\] 1500\/1500 records/);
    second.type('get contacts urn:uuid:pty-42');
    await second.waitFor('FN:Person 42');
    second.type('quit');
    await second.waitFor('AGENT-EXITED-0');
  });
});
