import { describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

describe('simsync demo', () => {
  it('FIG. 16: runs the whole sequence and finds every terminal consistent', async () => {
    const lines: string[] = [];
    expect(await runDemo((line) => lines.push(line))).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/SIM → 10b\s+mount:\s+downloaded a1\n/);
    expect(text).toMatch(/SIM → 10a\s+mount:\s+downloaded b1 \+ c1\n/);
    expect(text).toMatch(/SIM → 10b\s+mount:\s+downloaded a2 \+ c1\n/);
    expect(text).toContain('consistent');
    expect(text).not.toContain('✗');
  });
});
