import { describe, expect, it } from 'vitest';
import { PtyPair, requireSocat } from './pty-pair.js';

describe('PtyPair', () => {
  it('names the Debian package and the setup script when socat is missing', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requireSocat()).toThrow(/package 'socat'.*scripts\/socat-setup\.sh/);
    } finally {
      process.env.PATH = path;
    }
  });

  it('unplug() removes both ends and replug() makes them again under the same names', async () => {
    const pair = await PtyPair.open();
    const { existsSync } = await import('node:fs');
    expect(existsSync(pair.link) && existsSync(pair.simLink)).toBe(true);
    await pair.unplug();
    expect(pair.plugged).toBe(false);
    await pair.replug();
    expect(existsSync(pair.link)).toBe(true);
    await pair.close();
    await pair.close();
  });
});
