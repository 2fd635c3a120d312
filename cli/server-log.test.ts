import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, type ServerProcess, startServer } from '../test/crash/server-process.js';
import { addCliSubscriber, registerTerminal, simsync, terminalArgs } from '../test/support/run-cli.js';

/**
 * Issue 16, "the server talks like a server", through the real commands: a
 * `simsync server` process, the operator's `simsync admin`, and terminals
 * run as `simsync terminal … register|put|sync`. Its log has one line per
 * connection, sync, refusal and disconnection (broker/server-log.ts), as
 * mosquitto's does, and never a password.
 */
const IMSI = '001010000000102';
const LOGIN = 'server-log-login-1';
const PASSWORD = 'server-log-pw-1';

let dir: string;
let port: number;
let server: ServerProcess;

const terminalAt = (name: string, ...command: string[]) =>
  terminalArgs(path.join(dir, name), port, ...command);

/** The server's log as people read it: the `msg` of each JSON line. */
function messages(): string[] {
  return server
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return [String((JSON.parse(line) as { msg?: unknown }).msg ?? '')];
      } catch {
        return [];
      }
    });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-server-log-'));
  port = await freePort();
  server = await startServer(path.join(dir, 'srv'), port);
  const added = await addCliSubscriber(path.join(dir, 'srv'), LOGIN);
  expect(added.code, added.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('simsync server: one log line per connection, sync and refusal', () => {
  it('a terminal registering, editing and syncing, and one with a wrong login password', async () => {
    const register = await registerTerminal(path.join(dir, 'pc'), port, { login: LOGIN, password: PASSWORD });
    expect(register.stdout, register.stderr).toContain(`Registered for subscriber ${IMSI}`);
    expect((await simsync(terminalAt('pc', 'put', 'pim', 'note-1', 'buy', 'milk'), ['1234'])).code).toBe(0);
    const sync = await simsync(terminalAt('pc', 'sync'), ['1234']);
    expect(sync.code, sync.stderr).toBe(0);

    await vi.waitFor(
      () => {
        const log = messages();
        expect(log).toContainEqual(
          expect.stringMatching(/^New client connected from 127\.0\.0\.1 as t:\d{18}/),
        );
        expect(log).toContainEqual(expect.stringMatching(/^sync t:\d{18}: up 1, down \d+, \d+ ms$/));
        expect(log).toContainEqual(expect.stringMatching(/^Client t:\d{18} disconnected\.$/));
      },
      { timeout: 10_000 },
    );

    const wrong = await simsync(terminalAt('laptop', '--policy', 'fig10-subscriber-binding', 'register'), [
      'n',
      PASSWORD,
      PASSWORD,
      'all',
      'not-the-login-password',
      '1234',
      // Asked again after the refusal; the input ends there.
    ]);
    expect(wrong.stdout + wrong.stderr).toMatch(/refused|wrong/i);
    await vi.waitFor(() => expect(messages()).toContainEqual(expect.stringMatching(/^refused reg:/)), {
      timeout: 10_000,
    });

    // Nothing secret in it: no password, no login password, no full IMSI.
    const text = server.output();
    for (const secret of [PASSWORD, LOGIN, 'not-the-login-password', IMSI])
      expect(text, `the log shows ${secret}`).not.toContain(secret);
  }, 120_000);
});
