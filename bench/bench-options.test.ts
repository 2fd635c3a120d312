import { describe, expect, it } from 'vitest';
import { benchOptions } from './bench-options.js';

describe('bench flags reach run()', () => {
  it('no flags: undefined (full size); --quick: the quick options; other flags over them, camelCased, numbers as numbers', () => {
    const quick = { histories: 5, fuzz: 4000 };
    expect(benchOptions([], quick)).toBeUndefined();
    expect(benchOptions(['--quick'], quick)).toEqual(quick);
    expect(benchOptions(['--histories', '50', '--seed', '7', '--quick'], quick)).toEqual({
      histories: 50,
      seed: 7,
      fuzz: 4000,
    });
    expect(benchOptions(['--nv-kills', '600', '--label', 'x', '--verbose'], quick)).toEqual({
      nvKills: 600,
      label: 'x',
      verbose: true,
    });
    // A list of numbers, as `terminals` takes: `--terminals 1,10,100`; other commas stay text.
    expect(benchOptions(['--terminals', '1,10,100', '--names', 'a,b'], quick)).toEqual({
      terminals: [1, 10, 100],
      names: 'a,b',
    });
    expect(() => benchOptions(['histories'], quick)).toThrow('unexpected argument histories');
  });
});
