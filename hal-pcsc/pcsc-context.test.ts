import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from './vpcd-test-rig.js';

/**
 * Readers appearing and disappearing, and pcscd going away and coming back,
 * need a pcscd of our own: the shared one serves other tests. This one runs
 * in a private mount namespace (so its /run/pcscd is a temp directory), with
 * a vpcd reader configuration on a free port; the client under test runs in
 * a child process pointed at its socket.
 */
let dir: string;
let daemon: ChildProcess | undefined;
let probe: ChildProcess | undefined;
const events: { event: string; [k: string]: unknown }[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startDaemon(): Promise<void> {
  await rm(join(dir, 'run'), { recursive: true, force: true });
  execFileSync('mkdir', ['-p', join(dir, 'run')]);
  daemon = spawn(
    'unshare',
    ['-m', 'sh', '-c', `mount --bind ${dir}/run /run/pcscd && exec pcscd --foreground -c ${dir}/conf`],
    { stdio: 'ignore' },
  );
  await waitUntil(
    () => existsSync(join(dir, 'run', 'pcscd.comm')),
    'the private pcscd (needs root and unshare)',
  );
}

async function stopDaemon(): Promise<void> {
  const d = daemon;
  daemon = undefined;
  if (d === undefined || d.exitCode !== null) return;
  const exited = new Promise((resolve) => d.once('exit', resolve));
  d.kill('SIGTERM');
  await exited;
}

afterEach(async () => {
  probe?.stdin?.end();
  probe?.kill();
  probe = undefined;
  await stopDaemon();
  await rm(dir, { recursive: true, force: true });
  events.length = 0;
});

const count = (event: string) => events.filter((e) => e.event === event).length;

describe('PcscContext follows pcscd', () => {
  it('detaches every reader when pcscd stops, and re-attaches them when it is back', async () => {
    dir = await mkdtemp(join(tmpdir(), 'simsync-pcscd-'));
    const port = await freePort();
    await rm(join(dir, 'conf'), { recursive: true, force: true });
    execFileSync('mkdir', ['-p', join(dir, 'conf')]);
    const channel = `0x${port.toString(16).toUpperCase()}`;
    await writeFile(
      join(dir, 'conf', 'vpcd'),
      `FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:${channel}\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID ${channel}\n`,
    );
    await startDaemon();
    const script = fileURLToPath(new URL('./pcscd-loss-probe.ts', import.meta.url));
    probe = spawn(process.execPath, ['--import', 'tsx', script, String(port)], {
      env: { ...process.env, PCSCLITE_CSOCK_NAME: join(dir, 'run', 'pcscd.comm') },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: probe.stdout! }).on('line', (line) => events.push(JSON.parse(line)));

    await waitUntil(() => count('inserted') === 1, 'the card in the private reader', 15_000);
    expect(events.find((e) => e.event === 'ready')?.readers).toEqual([
      'Virtual PCD 00 00',
      'Virtual PCD 00 01',
    ]);

    await stopDaemon();
    await waitUntil(() => count('detached') === 2 && count('open-failed') === 1, 'the readers to go');
    // The card's reader reports the card gone (its status or the list, whichever pcscd's end reaches first).
    expect(count('removed')).toBe(1);
    expect(events.find((e) => e.event === 'open-failed')?.kind).toBe('device-unavailable');

    await startDaemon();
    await waitUntil(
      () => count('attached') === 2 && count('inserted') === 2,
      'pcscd and the card back',
      10_000,
    );
  });
});
