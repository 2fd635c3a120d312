import { describe, expect, it } from 'vitest';
import { AtError, cmeText, cmsText, parseFinal } from './at-errors.js';

describe('final result codes (V.250 §5.7.1, TS 27.007 §9.2, TS 27.005 §3.2.5)', () => {
  it('recognises OK, ERROR, +CME ERROR and +CMS ERROR, numeric or verbose', () => {
    expect(parseFinal('OK')).toEqual({ type: 'ok' });
    expect(parseFinal('ERROR')).toEqual({ type: 'error' });
    expect(parseFinal('+CME ERROR: 10')).toEqual({ type: 'cme', code: 10, text: 'SIM not inserted' });
    expect(parseFinal('+CME ERROR: incorrect password')).toEqual({
      type: 'cme',
      code: 16,
      text: 'incorrect password',
    });
    expect(parseFinal('+CMS ERROR: 310')).toEqual({ type: 'cms', code: 310, text: 'SIM not inserted' });
    expect(parseFinal('NO CARRIER')).toEqual({ type: 'call', text: 'NO CARRIER' });
    expect(parseFinal('+CPIN: READY')).toBeUndefined();
    expect(parseFinal('OKAY')).toBeUndefined();
  });

  it('TS 27.007 §9.2.1: each SIM-related code maps to the HalError kind a caller switches on', () => {
    const kind = (line: string) => AtError.fromFinal('AT+X', parseFinal(line)!).kind;
    expect(kind('+CME ERROR: 10')).toBe('no-card');
    expect(kind('+CME ERROR: 11')).toBe('pin-required');
    expect(kind('+CME ERROR: 12')).toBe('pin-blocked');
    expect(kind('+CME ERROR: 13')).toBe('card-error');
    expect(kind('+CME ERROR: 14')).toBe('busy');
    expect(kind('+CME ERROR: 16')).toBe('pin-wrong');
    expect(kind('+CME ERROR: 4')).toBe('not-supported');
    expect(kind('+CME ERROR: 30')).toBe('link-down');
    expect(kind('+CME ERROR: 999')).toBe('device-unavailable');
    expect(kind('+CMS ERROR: 311')).toBe('pin-required');
    expect(kind('ERROR')).toBe('not-supported');
  });

  it('keeps the code and its meaning on the error', () => {
    const e = AtError.fromFinal('AT+CPIN="0000"', parseFinal('+CME ERROR: 16')!);
    expect(e.cme).toBe(16);
    expect(e.command).toBe('AT+CPIN="0000"');
    expect(e.message).toContain('incorrect password');
    expect(cmeText(14)).toBe('SIM busy');
    expect(cmsText(322)).toBe('memory full');
  });
});
