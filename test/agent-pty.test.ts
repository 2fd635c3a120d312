import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  /** A key as tmux names it: 'C-c', 'C-d'. */
  key(name: string): void {
    tmux('send-keys', '-t', this.session, name);
  }

  /** The agent's process: the child of the pane's shell. */
  agentPid(): number {
    const shell = tmux('display-message', '-p', '-t', this.session, '#{pane_pid}').trim();
    const child = spawnSync('pgrep', ['-P', shell], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    if (!child) throw new Error(`no agent process under the pane's shell ${shell}`);
    return Number(child);
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

function agentCommand(data: string, extra = ''): string {
  return `node bin/simsync.js terminal --data ${data} --server mqtt://127.0.0.1:${server.port} --sim-iccid ${ICCID} --sim-imsi ${IMSI} --sim-pin 1234 ${extra}`;
}

function agent(name: string, data: string, extra = ''): Screen {
  return screenFor(name, `${agentCommand(data, extra)}; echo AGENT-EXITED-$?`);
}

function screenFor(name: string, command: string): Screen {
  const screen = Screen.start(
    `simsync-${name}-${process.pid}`,
    `cd ${process.cwd()} && ${command}; sleep 30`,
  );
  screens.push(screen);
  return screen;
}

/** The agent's first start with its walk-through, then `quit`. */
async function registered(name: string, data: string, extra = ''): Promise<void> {
  const screen = agent(name, data, extra);
  await firstRun(screen, `${name}-pw`);
  screen.type('quit');
  await screen.waitFor('AGENT-EXITED-0');
}

/** AT commands straight to a (simulated) modem's port, as another program on the Pi would send them. */
function atCommands(port: string, ...commands: string[]): string {
  const script = `
import os, select, sys, time, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
for cmd in sys.argv[2:]:
    os.write(fd, (cmd + '\\r').encode())
    out, end = b'', time.time() + 5
    while time.time() < end and b'OK' not in out and b'ERROR' not in out:
        if select.select([fd], [], [], 0.2)[0]:
            out += os.read(fd, 1024)
    sys.stdout.write(out.decode(errors='replace'))
`;
  const result = spawnSync('python3', ['-c', script, port, ...commands], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return result.stdout;
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
  await screen.waitFor(`Registered for subscriber ${IMSI}`);
}

/** The NV store is closed: no LOCK left for the next agent to find. */
function expectUnlocked(data: string): void {
  expect(existsSync(path.join(data, 'nv', 'LOCK'))).toBe(false);
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

  it('FIG. 8: a wrong PIN is refused by the card and asked again; nothing is registered until the card accepts one', async () => {
    const screen = agent('wrongpin', path.join(dir, 'b'));
    await screen.waitFor('Registered at a shop');
    const id = wrongPinTerminalId(screen.text());
    for (const answer of ['n', 'pw-5678', 'pw-5678', '2', 'all', LOGIN]) {
      await new Promise((r) => setTimeout(r, 150));
      screen.type(answer);
    }
    await screen.waitFor('SIM PIN (3 tries left)');
    screen.type('0000');
    const text = await screen.waitFor('SIM PIN (2 tries left)');
    expect(text).toContain('wrong PIN: 2 tries left');
    expect((await server.admin.listTerminals(IMSI)).map((t) => t.terminalId)).not.toContain(id);
    screen.type('1234');
    await screen.waitFor(`Registered for subscriber ${IMSI}`);
    expect((await server.admin.listTerminals(IMSI)).map((t) => t.terminalId)).toContain(id);
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
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

  it('Ctrl-C at the prompt cancels; the prompt answers again; a second Ctrl-C quits, exit 0, no stale nv/LOCK', async () => {
    const data = path.join(dir, 'ctrl-c');
    const screen = agent('ctrlc', data);
    await firstRun(screen, 'ctrl-c-pw');
    await screen.waitFor('type help');
    screen.key('C-c');
    await screen.waitFor('Ctrl-C again');
    screen.type('status');
    await screen.waitFor('last sync');
    screen.key('C-c');
    screen.key('C-c');
    await screen.waitFor('AGENT-EXITED-0');
    expectUnlocked(data);
  });

  it('Ctrl-C at the PIN prompt cancels the PIN entry only: the agent goes on, and quits cleanly', async () => {
    const data = path.join(dir, 'ctrl-c-pin');
    const first = agent('ctrlcpin1', data);
    await firstRun(first, 'ctrl-c-pw2');
    first.type('quit');
    await first.waitFor('AGENT-EXITED-0');

    const screen = agent('ctrlcpin2', data);
    await screen.waitFor('SIM PIN');
    screen.key('C-c');
    const text = await screen.waitFor('PIN entry cancelled');
    expect(text).not.toContain('refused');
    screen.type('status');
    await screen.waitFor(/card\s+present/);
    screen.key('C-c');
    screen.key('C-c');
    await screen.waitFor('AGENT-EXITED-0');
    expectUnlocked(data);
  });

  it('SIGTERM uploads what is pending within a bounded time, then exits 0', async () => {
    const data = path.join(dir, 'sigterm');
    const screen = agent('sigterm', data);
    await firstRun(screen, 'sigterm-pw');
    await screen.waitFor(/synced: 0 up, \d+ down/);
    screen.type('put pim note-1 buy milk');
    await screen.waitFor('stored pim/note-1');
    const started = Date.now();
    process.kill(screen.agentPid(), 'SIGTERM');
    const text = await screen.waitFor('AGENT-EXITED-0');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(text).toContain('stopped: uploaded 1 change first');
    expectUnlocked(data);
    const stored = await server.store.getRecord(IMSI, 'pim', 'note-1');
    expect(stored?.body && Buffer.from(stored.body).toString()).toBe('buy milk');
  });

  it('FIG. 19: a shop-registered terminal asks for its terminal password at first mount; passwd changes it', async () => {
    const data = path.join(dir, 'shop');
    const screen = agent('shop', data);
    await screen.waitFor('Registered at a shop');
    const terminalId = wrongPinTerminalId(screen.text());
    const { code } = await server.admin.registerShop({ terminalId, subscriber: IMSI, ttlMs: 600_000 });
    screen.type('y');
    await screen.waitFor('Policy [2]');
    screen.type('1');
    await screen.waitFor('Categories, comma separated');
    screen.type('all');
    await screen.waitFor('Shop code');
    screen.type(code);
    await screen.waitFor('SIM PIN');
    screen.type('1234');
    await screen.waitFor(`Registered for subscriber ${IMSI}`);
    await screen.waitFor('Choose a terminal password (registered at a shop');
    screen.type('shop-pw-1');
    await screen.waitFor('Repeat it');
    screen.type('shop-pw-1');
    await screen.waitFor('terminal password set');
    // FIG. 9: the card's PIN and the terminal password at every sync.
    await screen.waitFor(/terminal password set\s+SIM PIN/);
    screen.type('1234');
    await screen.waitFor('Terminal password:');
    screen.type('shop-pw-1');
    await screen.waitFor(/synced: 0 up, \d+ down/);
    screen.type('passwd');
    await screen.waitFor('Current terminal password');
    screen.type('shop-pw-1');
    await screen.waitFor('New terminal password');
    screen.type('shop-pw-2');
    await screen.waitFor('Repeat it:', 5000);
    screen.type('shop-pw-2');
    const text = await screen.waitFor('terminal password changed');
    expect(text).not.toContain('shop-pw');
    expect(text).not.toContain('no terminal password set');
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
  });

  it('the first-run walk-through asks again after each slip: an answer not offered, a misspelt category, a wrong login password', async () => {
    const screen = agent('slips', path.join(dir, 'slips'));
    await screen.waitFor('Registered at a shop');
    screen.type('maybe');
    await screen.waitFor('Answer y or n.');
    screen.type('n');
    await screen.waitFor('Choose a terminal password');
    screen.type('slip-pw-1');
    await screen.waitFor('Repeat it');
    screen.type('slip-pw-2');
    await screen.waitFor('They differ; again.');
    screen.type('slip-pw-1');
    await screen.waitFor(/again\.\s+Choose a terminal password:\s+Repeat it/);
    screen.type('slip-pw-1');
    await screen.waitFor('Policy [2]');
    screen.type('9');
    await screen.waitFor('No policy 9: answer 1 to 5.');
    screen.type('2');
    await screen.waitFor('Categories, comma separated');
    screen.type('contacts,calender');
    await screen.waitFor('No category calender: choose among contacts, mail');
    screen.type('contacts,pim');
    await screen.waitFor('Login password or one-time code');
    screen.type('not my login');
    await screen.waitFor('SIM PIN');
    screen.type('1234');
    await screen.waitFor('Check the login password or code; again.');
    screen.type(LOGIN);
    const text = await screen.waitFor(`Registered for subscriber ${IMSI}: contacts, pim`);
    expect(text.split('SIM PIN').length).toBe(2);
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
  });

  it('an aborted walk-through keeps nothing: the next run starts it afresh, with no terminal password to give', async () => {
    const data = path.join(dir, 'aborted');
    const screen = agent('aborted', data);
    await screen.waitFor('Registered at a shop');
    const id = wrongPinTerminalId(screen.text());
    screen.type('n');
    await screen.waitFor('Choose a terminal password');
    screen.type('abort-pw-1');
    await screen.waitFor('Repeat it');
    screen.type('abort-pw-1');
    await screen.waitFor('Login password or one-time code', 5000).catch(() => screen.waitFor('Policy [2]'));
    screen.key('C-c');
    await screen.waitFor('registration cancelled: nothing was kept');
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
    expectUnlocked(data);

    const again = agent('aborted2', data);
    await again.waitFor('Registered at a shop');
    again.type('n');
    const text = await again.waitFor('Choose a terminal password');
    expect(text).not.toContain('Current terminal password');
    expect((await server.admin.listTerminals(IMSI)).map((t) => t.terminalId)).not.toContain(id);
    again.key('C-c');
    again.key('C-c');
    await again.waitFor('AGENT-EXITED-0');
  });

  it('secrets are not echoed when the output is a pipe (| tee): not on the screen, not in the log', async () => {
    const log = path.join(dir, 'tee.log');
    const screen = screenFor(
      'tee',
      `bash -c '${agentCommand(path.join(dir, 'tee'))} | tee ${log}; echo AGENT-EXITED-\${PIPESTATUS[0]}'`,
    );
    await firstRun(screen, 'tee-secret-pw');
    screen.type('quit');
    const text = await screen.waitFor('AGENT-EXITED-0');
    const written = readFileSync(log, 'utf8');
    expect(written).toContain(`Registered for subscriber ${IMSI}`);
    for (const secret of ['tee-secret-pw', LOGIN, '1234']) {
      expect(text).not.toContain(secret);
      expect(written).not.toContain(secret);
    }
  });

  it('the PIN: "1 try left" with a warning before the last try; blocked, the PUK prompt shows its counter; a wrong PUK is not tried again; unblock sets a new PIN', async () => {
    const data = path.join(dir, 'puk');
    await registered('puk1', data);
    const screen = agent('puk2', data);
    await screen.waitFor('SIM PIN (3 tries left)');
    screen.type('0000');
    await screen.waitFor('SIM PIN (2 tries left)');
    screen.type('0000');
    const warned = await screen.waitFor('SIM PIN (1 try left: a wrong PIN now blocks the SIM)');
    expect(warned).toContain('wrong PIN: 1 try left');
    expect(warned).not.toContain('1 tries');
    screen.type('0000');
    await screen.waitFor('PUK (10 tries left');
    screen.type('11111111');
    await screen.waitFor('New PIN (4 to 8 digits)');
    screen.type('4321');
    await screen.waitFor('Repeat the new PIN');
    screen.type('4321');
    const wrong = await screen.waitFor('wrong PUK: 9 tries left (not tried again');
    expect(wrong).not.toContain('PUK (9 tries left');
    screen.type('unblock');
    await screen.waitFor('PUK (9 tries left');
    screen.type('12345678');
    await screen.waitFor(/PUK \(9 tries left[\s\S]*New PIN/);
    screen.type('4321');
    await screen.waitFor(/PUK \(9 tries left[\s\S]*Repeat the new PIN/);
    screen.type('4321');
    await screen.waitFor('SIM PIN unblocked: the new PIN is set');
    // The user just typed the new PIN twice: this session counts it as entered.
    screen.type('sync');
    const synced = await screen.waitFor(/unblocked[\s\S]*synced: \d+ up/);
    expect(synced.split('SIM PIN (').length).toBe(4);
    screen.type('status');
    await screen.waitFor(/card\s+present \(virtual-sim\), PIN entered, 3 tries left; PUK: 10 tries left/);
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
  });

  it('a server out of reach is a failure told once, never "refused"; quit then exits 0 all the same', async () => {
    const data = path.join(dir, 'unreachable');
    await registered('reach1', data);
    const screen = agent('reach2', data, '--server mqtt://127.0.0.1:1');
    await screen.waitFor('SIM PIN');
    screen.type('1234');
    await screen.waitFor('sync failed: no connection to the server');
    screen.type('sync');
    await screen.waitFor(/no connection to the server[\s\S]*sync\n[\s\S]*no connection to the server/);
    screen.type('get contacts nobody');
    await screen.waitFor('no record contacts/nobody');
    screen.type('quit');
    const text = await screen.waitFor('AGENT-EXITED-0');
    expect(text.split('no connection to the server').length).toBe(3);
    expect(text).not.toContain('refused');
    expect(text).not.toContain('not synced');
  });

  it('taking the SIM out says what the demount upload did, putting it back says so too (FIG. 16)', async () => {
    const data = path.join(dir, 'demount');
    const screen = agent('demount', data);
    await firstRun(screen, 'demount-pw');
    await screen.waitFor(/synced: 0 up, \d+ down/);
    screen.type('put pim note-a call Bob');
    await screen.waitFor('stored pim/note-a');
    screen.type('put pim note-b call Carol');
    await screen.waitFor('stored pim/note-b');
    screen.type('eject');
    await screen.waitFor('SIM removed: uploaded 2 changes');
    screen.type('insert');
    await screen.waitFor('SIM inserted');
    await screen.waitFor(/SIM inserted\s+SIM PIN/);
    screen.type('1234');
    await screen.waitFor(/SIM inserted[\s\S]*synced: 0 up/);
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
  });

  it('simsync terminal unblock; and after an unblock made elsewhere (another program on the modem), the agent still asks for the PIN', async () => {
    const port = path.join(dir, 'modem-at');
    const modem = spawn('node', ['bin/simsync.js', 'modem', 'simulate', '--link', port], { stdio: 'pipe' });
    try {
      await new Promise<void>((resolve, reject) => {
        modem.stdout.on('data', (d: Buffer) => d.toString().includes('AT port') && resolve());
        modem.once('exit', () => reject(new Error('the simulated modem did not start')));
      });
      const data = path.join(dir, 'modem');
      await registered('modem1', data, `--card modem:${port}`);
      // Three wrong VERIFY PIN1 through the modem (TS 27.007 §8.17 AT+CSIM; TS 102 221 §11.1.9).
      const wrongPin = 'AT+CSIM=26,"002000010830303030FFFFFFFF"';
      const block = [wrongPin, wrongPin, wrongPin];
      expect(atCommands(port, ...block, 'AT+CPIN?')).toContain('+CPIN: SIM PUK');
      // `simsync terminal unblock`: the PUK with its counter, a new PIN twice.
      const unblock = agent('modem-unblock', data, `--card modem:${port} unblock`);
      await unblock.waitFor('PUK (10 tries left', 30_000);
      unblock.type('12345678');
      await unblock.waitFor('New PIN');
      unblock.type('5678');
      await unblock.waitFor('Repeat the new PIN');
      unblock.type('5678');
      await unblock.waitFor('SIM PIN unblocked: the new PIN is set');
      await unblock.waitFor('AGENT-EXITED-0');
      // Blocked and unblocked by something else; the SIM is left unlocked (+CPIN: READY).
      const answers = atCommands(port, ...block, 'AT+CPIN="12345678","4321"', 'AT+CPIN?');
      expect(answers).toContain('+CPIN: READY');
      const screen = agent('modem2', data, `--card modem:${port}`);
      await screen.waitFor('SIM PIN (3 tries left)', 30_000);
      expect(screen.text()).not.toContain('synced');
      screen.type('4321');
      await screen.waitFor(/synced: \d+ up/, 30_000);
      screen.type('quit');
      await screen.waitFor('AGENT-EXITED-0');
    } finally {
      const exited =
        modem.exitCode === null && modem.signalCode === null
          ? new Promise((resolve) => modem.once('exit', resolve))
          : Promise.resolve();
      modem.kill('SIGINT');
      const late = setTimeout(() => modem.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(late);
    }
  });

  it('erase asks before it erases: n keeps the data, y erases it after the upload (FIG. 20)', async () => {
    const screen = agent('erase', path.join(dir, 'erase'));
    await firstRun(screen, 'erase-pw');
    expect(screen.text()).toContain('2) card PIN + the SIM bound to this terminal (FIG. 10-A/B)');
    screen.type('put pim todo-1 water the roses');
    await screen.waitFor('stored pim/todo-1');
    screen.type('erase pim');
    await screen.waitFor(
      'Erase the pim data on this terminal, after uploading what is not on the server yet? [y/N]',
    );
    screen.type('n');
    await screen.waitFor('nothing erased');
    screen.type('ls pim');
    await screen.waitFor(/pim\/todo-1\s+water the roses/);
    screen.type('erase pim');
    await screen.waitFor(/nothing erased[\s\S]*Erase the pim data/);
    screen.type('y');
    // Uploaded by the erase, or already by the edit's own upload 5 s after it: on the server either way.
    await screen.waitFor(/erased \d+ record\(s\) of pim after uploading [01];/);
    // After the erase the state is said, and the way back.
    await screen.waitFor(/pim stays a sync target[\s\S]*`restore pim` brings the erased data back/);
    screen.type('ls pim');
    await screen.waitFor('(no records in pim)');
    screen.type('restore pim');
    // Every pim record the server holds (the server here is shared with the other tests), todo-1 among them.
    await screen.waitFor(/restored [1-9]\d* record\(s\) of pim from the server/);
    screen.type('ls pim');
    await screen.waitFor(/restored[\s\S]*pim\/todo-1\s+water the roses/);
    screen.type('restore mail,bogus');
    await screen.waitFor(/unknown category bogus|not a category/);
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
  });

  it('while the agent runs, one-shot commands talk to it over its 0600 control socket, prompts and all; after it, they run alone', async () => {
    const data = path.join(dir, 'service');
    const screen = agent('service', data);
    await firstRun(screen, 'service-pw-1');
    await screen.waitFor(/synced: 0 up, \d+ down/);
    const sock = path.join(data, 'agent.sock');
    expect(statSync(sock).isSocket()).toBe(true);
    expect(statSync(sock).mode & 0o777).toBe(0o600);

    const put = screenFor(
      'service-put',
      `${agentCommand(data, 'put pim from-outside hello there')}; echo ONESHOT-EXITED-$?`,
    );
    await put.waitFor('ONESHOT-EXITED-0');
    expect(put.text()).toContain('stored pim/from-outside');
    expect(put.text()).not.toContain('LOCK');
    screen.type('ls pim');
    await screen.waitFor(/pim\/from-outside\s+hello there/);

    // The command's prompts come to whoever typed it, unechoed.
    const passwd = screenFor('service-passwd', `${agentCommand(data, 'passwd')}; echo ONESHOT-EXITED-$?`);
    await passwd.waitFor('Current terminal password');
    passwd.type('service-pw-1');
    await passwd.waitFor('New terminal password');
    passwd.type('service-pw-2');
    await passwd.waitFor('Repeat it');
    passwd.type('service-pw-2');
    const text = await passwd.waitFor('ONESHOT-EXITED-0');
    expect(text).toContain('terminal password changed');
    expect(text).not.toContain('service-pw');

    const refused = screenFor('service-quit', `${agentCommand(data, 'quit')}; echo ONESHOT-EXITED-$?`);
    await refused.waitFor('ONESHOT-EXITED-2');
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
    expect(existsSync(sock)).toBe(false);
    const alone = screenFor('service-alone', `${agentCommand(data, 'categories')}; echo ONESHOT-EXITED-$?`);
    await alone.waitFor('ONESHOT-EXITED-0');
    expect(alone.text()).toContain('categories: contacts');
  });
  it('syncs without being asked: an edit goes up 5 s after it, and while the server is down it tries again with a back-off until the server is back', async () => {
    const store = openSqliteStore(':memory:');
    const first = await startSyncServer({ store, host: '127.0.0.1', port: 0 });
    const { port } = first;
    await first.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
    const data = path.join(dir, 'retry');
    const command = agentCommand(data).replace(`:${server.port} `, `:${port} `);
    const screen = screenFor('retry', `${command}; echo AGENT-EXITED-$?`);
    await firstRun(screen, 'retry-pw');
    await screen.waitFor(/synced: 0 up, \d+ down/);
    // After an edit: no `sync` typed, the upload follows the burst's quiet delay.
    screen.type('put pim note-r1 water the plants');
    await screen.waitFor('synced: 1 up');
    expect((await store.getRecord(IMSI, 'pim', 'note-r1'))?.body).toBeDefined();
    screen.type('status');
    await screen.waitFor(/server\s+mqtt:\/\/127\.0\.0\.1:\d+ \(reachable\)/);

    await first.close();
    screen.type('put pim note-r2 call the plumber');
    await screen.waitFor('stored pim/note-r2');
    const down = await screen.waitFor(/sync failed:[\s\S]*trying again within \d+ s, then less often/);
    // Said once: a retry has failed too (the back-off doubled to 10 s, status says), and printed nothing.
    await vi.waitFor(
      () => {
        screen.type('status');
        expect(screen.text()).toMatch(/next try\s+within 10 s \(the server was out of reach\)/);
      },
      { timeout: 30_000, interval: 1000 },
    );
    expect(screen.text()).toMatch(/server\s+mqtt:\/\/127\.0\.0\.1:\d+ \(not reachable: ECONNREFUSED\)/);
    const said = (text: string) => text.match(/^! sync failed/gm)?.length ?? 0;
    expect(said(screen.text())).toBe(said(down));
    const second = await startSyncServer({ store, host: '127.0.0.1', port });
    try {
      // The second upload, made by a retry once the server answers again.
      await screen.waitFor(/synced: 1 up[\s\S]*synced: 1 up/, 60_000);
      const stored = await store.getRecord(IMSI, 'pim', 'note-r2');
      expect(stored?.body && Buffer.from(stored.body).toString()).toBe('call the plumber');
      screen.type('quit');
      await screen.waitFor('AGENT-EXITED-0');
    } finally {
      await second.close();
      await store.close();
    }
  }, 120_000);
  it('issue 21: a damaged store is named (file, byte), never used; the agent offers a resync from the server and the data comes back', async () => {
    const data = path.join(dir, 'damaged');
    const screen = agent('damaged', data);
    await firstRun(screen, 'damaged-pw');
    await screen.waitFor(/synced: 0 up, \d+ down/);
    screen.type('put pim note-d1 renew the passport');
    await screen.waitFor('stored pim/note-d1');
    screen.type('sync');
    await screen.waitFor('synced: 1 up');
    screen.type('quit');
    await screen.waitFor('AGENT-EXITED-0');
    // One bit flipped in the middle of the log, as a failing flash or disk leaves it.
    const log = path.join(data, 'nv', 'nv.log');
    const bytes = readFileSync(log);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x10;
    writeFileSync(log, bytes);

    // Answered no: it names the damage, exits non-zero, and changes nothing.
    const oneShot = screenFor('damaged-ls', `${agentCommand(data, 'ls')}; echo ONESHOT-EXITED-$?`);
    await oneShot.waitFor('Set it aside and start again from the server?');
    oneShot.type('n');
    const refused = await oneShot.waitFor(/ONESHOT-EXITED-\d+/);
    expect(refused).toMatch(/store is damaged \(.*nv\.log, byte \d+\)/);
    expect(refused).not.toContain('ONESHOT-EXITED-0');
    expect(readFileSync(log)).toEqual(bytes);

    const again = agent('damaged-again', data);
    await again.waitFor(/store is damaged \(.*nv\.log, byte \d+\)/);
    await again.waitFor('Set it aside and start again from the server?');
    again.type('y');
    await again.waitFor('the damaged log is kept as');
    await firstRun(again, 'damaged-pw-2');
    await again.waitFor(/synced: 0 up, [1-9]\d* down/);
    again.type('ls pim');
    await again.waitFor(/pim\/note-d1\s+renew the passport/);
    again.type('quit');
    await again.waitFor('AGENT-EXITED-0');
    expect(readdirSync(path.join(data, 'nv')).some((f) => f.startsWith('nv.log.corrupt-'))).toBe(true);
  }, 120_000);
});
