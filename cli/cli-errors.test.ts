import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SyncServer, startSyncServer } from '../broker/index.js';
import { type Run, registerTerminal, run, simsync, terminalArgs } from '../test/support/run-cli.js';

/**
 * The `simsync` command meeting mistakes and a busy machine (issue 16
 * "Broken", issue 14): one clear line and an exit code, never a stack
 * trace. Each test runs the real CLI as a user would.
 */
const IMSI = '001010000000102';
const ICCID = '8988211000000430010';
const LOGIN = 'errors-login-1';
const TERMINAL_PASSWORD = 'errors-pw-1';

/** One line on stderr, no stack frame anywhere. */
function expectOneLine(r: Run, why: RegExp): void {
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(why);
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at /);
}

let dir: string;
let server: SyncServer;

function listening(): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

function portOf(s: Server): number {
  return (s.address() as { port: number }).port;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-cli-errors-'));
  server = await startSyncServer({ store: openSqliteStore(':memory:'), host: '127.0.0.1', port: 0 });
  await server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
});

afterAll(async () => {
  await server?.close();
  await server?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('simsync server: a port already taken', () => {
  it('the MQTT port: one line naming the address and --port, non-zero exit', async () => {
    const taken = await listening();
    try {
      const r = await simsync([
        'server',
        '--data',
        path.join(dir, 'srv-a'),
        '--port',
        String(portOf(taken)),
        '--metrics-port',
        '0',
      ]);
      expect(r.code).toBe(1);
      expectOneLine(r, new RegExp(`127\\.0\\.0\\.1:${portOf(taken)} is already in use.*--port`));
    } finally {
      taken.close();
    }
  });

  it('the metrics port (9464 by default, so a second server on a host): one line naming --metrics-port', async () => {
    const taken = await listening();
    try {
      const r = await simsync([
        'server',
        '--data',
        path.join(dir, 'srv-b'),
        '--port',
        '0',
        '--metrics-port',
        String(portOf(taken)),
      ]);
      expect(r.code).toBe(1);
      expectOneLine(r, /is already in use.*--metrics-port.*--metrics-port 0/);
    } finally {
      taken.close();
    }
  });
});

describe('output piped into a program that stops reading', () => {
  it('`| head -1` ends the command quietly with 141, as SIGPIPE does, not with an EPIPE stack', async () => {
    const data = path.join(dir, 'srv-pipe');
    mkdirSync(data, { recursive: true });
    const store = openSqliteStore(path.join(data, 'simsync.db'));
    await store.transaction(async (tx) => {
      for (let i = 0; i < 2000; i++) {
        await tx.putSubscriber({
          subscriber: `0010100000${String(i).padStart(5, '0')}`,
          iccid: null,
          loginPasswordHash: null,
          createdAt: Date.now(),
        });
      }
    });
    await store.close();
    const r = await run('bash', [
      '-o',
      'pipefail',
      '-c',
      `node bin/simsync.js admin subscribers --data ${data} | head -1`,
    ]);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(141);
  });
});

describe('simsync sim serve', () => {
  it('without --iccid and --imsi: a usage error (exit 2), not a stack trace', async () => {
    const r = await simsync(['sim', 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: the virtual SIM needs --iccid and --imsi/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('simsync terminal: contacts are vCards', () => {
  const data = () => path.join(dir, 'pc');
  const terminal = (...command: string[]) => terminalArgs(data(), server.port, ...command);

  beforeAll(async () => {
    const r = await registerTerminal(data(), server.port, { login: LOGIN, password: TERMINAL_PASSWORD });
    expect(r.stdout, r.stderr).toContain(`Registered for subscriber ${IMSI}`);
  }, 60_000);

  it('put contacts refuses free text that is not a vCard, and stores a vCard given on one line', async () => {
    const free = await simsync(terminal('put', 'contacts', 'alice', 'Alice', 'Liddell'), ['1234']);
    expect(free.code).toBe(1);
    expectOneLine(free, /contacts hold vCards, and this is not one/);
    const card = await simsync(
      terminal('put', 'contacts', 'alice', 'BEGIN:VCARD\\nVERSION:4.0\\nFN:Alice Liddell\\nEND:VCARD'),
      ['1234'],
    );
    expect(card.code, card.stderr).toBe(0);
    const out = path.join(dir, 'out.vcf');
    const exported = await simsync(terminal('export-vcard', out), ['1234']);
    expect(exported.stdout, exported.stderr).toContain('exported 1 contact(s)');
  }, 60_000);

  it('import-vcard names a truncated last card instead of dropping it silently', async () => {
    const file = path.join(dir, 'cut.vcf');
    writeFileSync(
      file,
      'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bob\r\nUID:bob\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Car',
    );
    const r = await simsync(terminal('import-vcard', file), ['1234']);
    expect(r.stdout, r.stderr).toMatch(/imported 1 contact\(s\)/);
    expect(r.stdout).toMatch(/rejected \(not imported\):\s+line 6: /);
  }, 60_000);
});
