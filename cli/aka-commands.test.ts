import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServerProcess, startServer } from '../test/crash/server-process.js';
import { addCliSubscriber, registerTerminal, simsync, terminalArgs } from '../test/support/run-cli.js';

/**
 * Issue 19 as an operator and a user meet it, through the real commands: a
 * key file made by `admin aka-keygen`, a SIM's K/OPc given to `admin
 * aka-set`, `simsync server --aka-key-file`, and terminals whose virtual SIM
 * holds the right K, another K, or none.
 */
const IMSI = '001010000000102';
const LOGIN = 'aka-login-1';
const PASSWORD = 'aka-terminal-pw-1';
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const OTHER_K = '00112233445566778899aabbccddeeff';

let dir: string;
let port: number;
let server: ServerProcess;
let keyFile: string;
const srv = () => path.join(dir, 'srv');

/** The terminal's argv with the virtual SIM's K and OPc. */
const terminalAt = (name: string, k: string | undefined, ...command: string[]) => {
  const args = terminalArgs(path.join(dir, name), port, ...command);
  if (k === undefined) return args;
  const at = args.indexOf('--sim-pin');
  return [...args.slice(0, at), '--sim-ki', k, '--sim-opc', OPC, ...args.slice(at)];
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-aka-cli-'));
  keyFile = path.join(dir, 'aka-keys.json');
  const keygen = await simsync(['admin', 'aka-keygen', '--aka-key-file', keyFile, '--id', 'k1']);
  expect(keygen.code, keygen.stderr).toBe(0);
  const added = await addCliSubscriber(srv(), LOGIN);
  expect(added.code, added.stderr).toBe(0);
  port = await freePort();
  server = await startServer(srv(), port, ['--aka-key-file', keyFile]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('simsync admin aka-… and a terminal whose SIM proves itself', () => {
  it('aka-keygen writes a key file only its owner reads; a second key becomes current, the first stays', async () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const again = await simsync(['admin', 'aka-keygen', '--aka-key-file', keyFile, '--id', 'k1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already has a key k1');
    const second = await simsync(['admin', 'aka-keygen', '--aka-key-file', keyFile, '--id', 'k2']);
    expect(second.code, second.stderr).toBe(0);
    const file = JSON.parse(readFileSync(keyFile, 'utf8')) as {
      current: string;
      keys: Record<string, string>;
    };
    expect(file.current).toBe('k2');
    expect(Object.keys(file.keys)).toEqual(['k1', 'k2']);
    // The key never reaches the terminal: only its name.
    expect(second.stdout).not.toContain(file.keys.k2);
  });

  it('aka-set refuses bad input in one line, changes nothing, and never echoes the key', async () => {
    const base = ['admin', 'aka-set', '--data', srv(), '--aka-key-file', keyFile, '--subscriber', IMSI];
    for (const [args, says] of [
      [['--ki', 'abc', '--opc', OPC], 'K must be 32 hex digits'],
      [['--ki', K], 'give exactly one of OPc and OP'],
      [['--ki', K, '--opc', OPC, '--op', OPC], 'give exactly one of OPc and OP'],
    ] as const) {
      const r = await simsync([...base, ...args]);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(says)]);
      expect(r.stderr + r.stdout).not.toContain(K);
    }
    const noFile = await simsync([
      'admin',
      'aka-set',
      '--data',
      srv(),
      '--aka-key-file',
      path.join(dir, 'nope.json'),
      '--subscriber',
      IMSI,
      '--ki',
      K,
      '--opc',
      OPC,
    ]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('cannot read the AKA key file');
    const unknown = await simsync([...base.slice(0, -1), '228062800000208', '--ki', K, '--opc', OPC]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no subscriber 228062800000208');
  });

  it('add-subscriber takes the key at registration; a bad key leaves no subscriber behind', async () => {
    const other = '228062800000208';
    const base = ['admin', 'add-subscriber', '--data', srv(), '--subscriber', other, '--json'];
    const bad = await simsync([...base, '--aka-key-file', keyFile, '--ki', K, '--opc', 'zz']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('OPc must be 32 hex digits');
    const list = await simsync(['admin', 'subscribers', '--data', srv(), '--json']);
    expect(list.stdout).not.toContain(other);
    const noFile = await simsync([...base, '--ki', K, '--opc', OPC]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('--ki needs --aka-key-file');
    const ok = await simsync([
      ...base,
      '--aka-key-file',
      keyFile,
      '--ki',
      K,
      '--op',
      'cdc202d5123e20f62b6d676ac72cb318',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ subscriber: other, aka: true });
    expect(ok.stdout).not.toContain(K);
  });

  it('with the key set, the right SIM syncs, a SIM with another K is refused and told why, and rotation keeps it working', async () => {
    const reg = await registerTerminal(path.join(dir, 'pc'), port, { login: LOGIN, password: PASSWORD });
    expect(reg.code, reg.stderr).toBe(0);
    const set = await simsync([
      'admin',
      'aka-set',
      '--data',
      srv(),
      '--aka-key-file',
      keyFile,
      '--subscriber',
      IMSI,
      '--ki',
      K,
      '--opc',
      OPC,
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('saved, sealed');
    expect(set.stdout).not.toContain(K);

    expect((await simsync(terminalAt('pc', K, 'put', 'pim', 'note-1', 'milk'), ['1234'])).code).toBe(0);
    const ok = await simsync(terminalAt('pc', K, 'sync'), ['1234']);
    expect(ok.code, ok.stderr).toBe(0);

    const clone = await simsync(terminalAt('pc', OTHER_K, 'sync'), ['1234']);
    expect(clone.code).not.toBe(0);
    expect(clone.stdout + clone.stderr).toContain("does not recognise the server's challenge");
    expect(clone.stdout + clone.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace

    const none = await simsync(terminalAt('pc', undefined, 'sync'), ['1234']);
    expect(none.code).not.toBe(0);
    expect(none.stdout + none.stderr).toMatch(/cannot|authenticate/);

    const rotate = await simsync(['admin', 'aka-rotate', '--data', srv(), '--aka-key-file', keyFile]);
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(rotate.stdout).toContain('0 AKA key(s) re-sealed');
    // A new server key, the key re-sealed under it, the old one dropped from the file: the running server follows.
    expect((await simsync(['admin', 'aka-keygen', '--aka-key-file', keyFile, '--id', 'k3'])).code).toBe(0);
    const moved = await simsync(['admin', 'aka-rotate', '--data', srv(), '--aka-key-file', keyFile]);
    // Both subscribers' keys: this one's and the one add-subscriber took.
    expect(moved.stdout).toContain('2 AKA key(s) re-sealed');
    const file = JSON.parse(readFileSync(keyFile, 'utf8')) as {
      current: string;
      keys: Record<string, string>;
    };
    writeFileSync(keyFile, JSON.stringify({ current: 'k3', keys: { k3: file.keys.k3 } }), { mode: 0o600 });
    expect((await simsync(terminalAt('pc', K, 'put', 'pim', 'note-2', 'eggs'), ['1234'])).code).toBe(0);
    const after = await simsync(terminalAt('pc', K, 'sync'), ['1234']);
    expect(after.code, after.stderr).toBe(0);
    expect(server.output()).not.toContain(K);
    expect(server.output()).not.toContain(OPC);
  });
});
