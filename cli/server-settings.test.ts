import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readServerSettings, ServerSettingsError, withSettingsFile } from './server-settings.js';

describe('the server settings file', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is read from <data>/server.json; flags from the command line or the environment win over it', () => {
    dir = mkdtempSync(join(tmpdir(), 'simsync-settings-'));
    writeFileSync(
      join(dir, 'server.json'),
      JSON.stringify({
        postgres: 'postgres://db/simsync',
        redis: 'redis://r:6379',
        port: 1884,
        host: '0.0.0.0',
      }),
    );
    const file = readServerSettings(dir, undefined);
    const sources: Record<string, string> = { port: 'cli', redis: 'env', host: 'default' };
    const merged = withSettingsFile(
      { port: 1999, redis: 'redis://from-env', host: '127.0.0.1', postgres: undefined },
      file,
      (k) => sources[k],
    );
    expect(merged).toEqual({
      port: 1999,
      redis: 'redis://from-env',
      host: '0.0.0.0',
      postgres: 'postgres://db/simsync',
    });
  });

  it('refuses an unknown key, a bad value or a missing named file with a line that says where', () => {
    dir = mkdtempSync(join(tmpdir(), 'simsync-settings-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ prot: 1883 }));
    expect(() => readServerSettings(dir, bad)).toThrow(ServerSettingsError);
    writeFileSync(bad, JSON.stringify({ port: 70000 }));
    expect(() => readServerSettings(dir, bad)).toThrow(/port/);
    writeFileSync(bad, '{ not json');
    expect(() => readServerSettings(dir, bad)).toThrow(/not JSON/);
    expect(() => readServerSettings(dir, join(dir, 'missing.json'))).toThrow(/no settings file/);
    expect(readServerSettings(dir, undefined)).toEqual({});
  });
});
