import { describe, expect, it } from 'vitest';
import { run } from './session-phases.js';

describe('bench session-phases (smoke)', () => {
  it("splits a sync session into the terminal's work and the server's round trips, each request named", async () => {
    const result = await run({ rounds: 4, k: 5 });
    const phases = result.rows.map((r) => String(r.phase));
    expect(phases[0]).toBe('terminal: SIM in, mount → link open asked');
    expect(phases).toContain('server: CONNECT out → CONNACK in');
    expect(phases).toContain('server: SUBSCRIBE out → SUBACK in');
    expect(phases).toContain('server: upload out → upload reply in');
    expect(phases).toContain('server: download out → download reply in');
    // The terminal builds the batch between the download's reply and the upload.
    expect(phases).toContain('terminal: download reply in → upload out');
    // No AKA key for this subscriber: its challenge is asked in the first session only (fewer than half).
    expect(phases.some((p) => /aka-challenge/.test(p))).toBe(false);
    const whole = result.rows.at(-1)!;
    expect(whole.phase).toBe('whole session (SIM in to link closed)');
    expect(whole.sessions).toBe(4);
    // The phases are the session cut into consecutive pieces: their medians add up to about the whole.
    const parts = result.rows.slice(0, -1).reduce((n, r) => n + Number(r.p50_ms), 0);
    expect(parts).toBeGreaterThan(Number(whole.p50_ms) * 0.5);
    expect(parts).toBeLessThan(Number(whole.p50_ms) * 1.5);
  }, 60_000);
});
