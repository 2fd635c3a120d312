import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from './terminal-settings.js';

describe('terminal settings: batchBytes (issue 20: 1 MiB upload batches by default)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-settings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const withConfig = (config: unknown) => {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    return loadSettings({ data: dir });
  };

  it('is absent unless set (the engine then uses its 1 MiB), and taken from config.json when it is', () => {
    expect(withConfig({}).batchBytes).toBeUndefined();
    expect(withConfig({ batchBytes: 64 * 1024 }).batchBytes).toBe(64 * 1024);
  });

  it('refuses a size outside 1 KiB … 2 MiB, or not a whole number, by name', () => {
    for (const batchBytes of [512, 3 * 1024 * 1024, 1.5, '256k']) {
      expect(() => withConfig({ batchBytes }), String(batchBytes)).toThrow(SettingsError);
      expect(() => withConfig({ batchBytes }), String(batchBytes)).toThrow(/^batchBytes: /);
    }
  });
});
