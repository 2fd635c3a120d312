import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simsync } from '../test/support/run-cli.js';

/**
 * The operator's tools as people and scripts use them (issue 16 "Expected"):
 * tables with ISO times by default, `--json` for scripts with the same ISO
 * times, `--version`, and flags checked at the door so that a mistyped IMSI
 * or terminal ID writes nothing.
 */
const IMSI = '001010000000102';
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
const TERMINAL = '123456789012345678';

let dir: string;
const data = () => path.join(dir, 'srv');

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-operator-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('simsync admin: tables for people, --json for scripts', () => {
  it('add-subscriber and subscribers print a table with ISO times; --json the same times as JSON', async () => {
    const added = await simsync([
      'admin',
      'add-subscriber',
      '--data',
      data(),
      '--subscriber',
      IMSI,
      '--login-password',
      'op-login',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(new RegExp(`^subscriber\\s+${IMSI}$`, 'm'));
    expect(added.stdout).toMatch(new RegExp(`^createdAt\\s+${ISO.source}$`, 'm'));
    const table = await simsync(['admin', 'subscribers', '--data', data()]);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^SUBSCRIBER\s+ICCID\s+LOGIN PASSWORD\s+CREATED$/);
    expect(row).toMatch(new RegExp(`^${IMSI}\\s+—\\s+yes\\s+${ISO.source}$`));
    const json = await simsync(['admin', 'subscribers', '--data', data(), '--json']);
    const parsed = JSON.parse(json.stdout.trim());
    expect(parsed).toMatchObject({ subscriber: IMSI, hasLoginPassword: true });
    expect(parsed.createdAt).toMatch(ISO);
  });

  it('expiresAt is an ISO time in issue-code and in register-shop alike', async () => {
    const code = await simsync(['admin', 'issue-code', '--data', data(), '--subscriber', IMSI, '--json']);
    expect(JSON.parse(code.stdout).expiresAt, code.stderr).toMatch(ISO);
    const shop = await simsync([
      'register-shop',
      '--data',
      data(),
      '--terminal',
      TERMINAL,
      '--subscriber',
      IMSI,
      '--json',
    ]);
    expect(JSON.parse(shop.stdout).expiresAt, shop.stderr).toMatch(ISO);
    const text = await simsync(['admin', 'issue-code', '--data', data(), '--subscriber', IMSI]);
    expect(text.stdout).toMatch(new RegExp(`^expiresAt\\s+${ISO.source}$`, 'm'));
    const terminals = await simsync(['admin', 'terminals', '--data', data()]);
    expect(terminals.stdout).toMatch(/^TERMINAL\s+SUBSCRIBER\s+STATE/);
    expect(terminals.stdout).toMatch(new RegExp(`^${TERMINAL}\\s+${IMSI}\\s+code not claimed`, 'm'));
  });

  it('--version prints the version', async () => {
    const r = await simsync(['--version']);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('register-shop checks its flags at the door (issue 16)', () => {
  it.each([
    [['--subscriber', '12345'], /an IMSI is 6 to 15 digits/],
    [['--subscriber', '123456789012345'], /123 is no mobile country code/],
    [['--terminal', '12345'], /a terminal ID is 18 digits/],
    [['--iccid', '8988211000000430011'], /not the Luhn check digit/],
  ])('refuses %j, writing nothing', async (bad, why) => {
    const flags = { '--terminal': '223456789012345678', '--subscriber': '262011234567890' } as Record<
      string,
      string
    >;
    for (let i = 0; i < bad.length; i += 2) flags[bad[i]!] = bad[i + 1]!;
    const r = await simsync([
      'register-shop',
      '--data',
      path.join(dir, 'door'),
      ...Object.entries(flags).flat(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(why);
    const subscribers = await simsync(['admin', 'subscribers', '--data', path.join(dir, 'door')]);
    expect(subscribers.stdout.trim()).toBe('(none)');
  });

  it('does not create a subscriber silently: unknown is refused, --new-subscriber creates it', async () => {
    const door = path.join(dir, 'door2');
    const refused = await simsync([
      'register-shop',
      '--data',
      door,
      '--terminal',
      TERMINAL,
      '--subscriber',
      '262011234567890',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /no subscriber 262011234567890: add it with simsync admin add-subscriber, or pass --new-subscriber/,
    );
    expect((await simsync(['admin', 'subscribers', '--data', door])).stdout.trim()).toBe('(none)');
    const created = await simsync([
      'register-shop',
      '--data',
      door,
      '--terminal',
      TERMINAL,
      '--subscriber',
      '262011234567890',
      '--new-subscriber',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^code\s+\S+/m);
  });
});
