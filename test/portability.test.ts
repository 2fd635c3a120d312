import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const FIXTURE = 'test/fixtures/layering';

function run(command: string, args: string[], cwd = '.'): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('layering is checked by a tool (DESIGN.md "Layers")', () => {
  it('fails on each deliberately bad import in the fixture tree', () => {
    const { status, output } = run(
      'npx',
      [
        'depcruise',
        '--config',
        '../../../.dependency-cruiser.cjs',
        '--ts-config',
        'tsconfig.json',
        'hal',
        'core',
        'hal-sim',
        'broker',
        'uicc',
      ],
      FIXTURE,
    );
    expect(status).not.toBe(0);
    for (const rule of [
      'hal-imports-nothing: hal/bad-hal-imports-core.ts',
      'hal-imports-nothing: hal/bad-hal-imports-uicc.ts',
      'uicc-imports-only-hal: uicc/bad-uicc.ts',
      'core-is-portable: core/engine.ts',
      'no-node-builtins-in-portable-layers: core/engine.ts',
      'hal-impl-isolated: hal-sim/bad-cross-hal.ts',
      'broker-uses-only-core-protocol: broker/bad-engine.ts → core/engine.ts',
    ]) {
      expect(output).toContain(rule);
    }
    // broker/ may import core/protocol, and uicc/ may import hal/: those edges are not reported.
    expect(output).not.toContain('broker/bad-engine.ts → core/protocol');
    expect(output).not.toContain('uicc/uses-hal.ts');
  });

  it('passes on the real tree', () => {
    const { status, output } = run('npx', [
      'depcruise',
      '--config',
      '.dependency-cruiser.cjs',
      'hal',
      'uicc',
      'core',
    ]);
    expect(output).toContain('no dependency violations');
    expect(status).toBe(0);
  });
});

describe('core/ bundles for the browser', () => {
  it('refuses a portable-layer file that imports a Node module', () => {
    const { status, output } = run('node', ['scripts/browser-bundle.mjs', `${FIXTURE}/core/engine.ts`]);
    expect(status).not.toBe(0);
    expect(output).toContain("imports Node built-in 'node:fs'");
  });

  it('refuses a portable-layer file that touches a Node global at load time', () => {
    const { status, output } = run('node', ['scripts/browser-bundle.mjs', `${FIXTURE}/core/uses-process.ts`]);
    expect(status).not.toBe(0);
    expect(output).toContain('fails to load without Node globals: process is not defined');
  });
});
