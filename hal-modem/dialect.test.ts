import { describe, expect, it } from 'vitest';
import type { AtEngine } from './at-engine.js';
import { AtError, parseFinal } from './at-errors.js';
import { DIALECTS, readCounters, readPinLock } from './dialect.js';

/** An AtEngine stand-in answering each command with the lines (or the final error) a module sends. */
function modem(answers: Record<string, string[] | string>): AtEngine {
  return {
    command: async (command: string) => {
      const answer = answers[command];
      if (answer === undefined || typeof answer === 'string') {
        throw AtError.fromFinal(command, parseFinal(answer ?? 'ERROR')!);
      }
      return { lines: answer };
    },
  } as unknown as AtEngine;
}

describe('PIN counters per dialect (issue 14 item 7)', () => {
  it('SIMCom AT+SPIC: <pin1>,<puk1>,<pin2>,<puk2> (SIM7600 AT manual; oFono at_spic_cb)', async () => {
    // A SIM7600 with PIN1 at 2 tries and PUK1 at 9: before, the PUK was read from the third field (PIN2's 3).
    const at = modem({ 'AT+SPIC': ['+SPIC: 2,9,3,10'] });
    expect(await readCounters(at, DIALECTS.simcom)).toEqual({ pin: 2, puk: 9 });
    expect(await readCounters(modem({ 'AT+SPIC': ['+SPIC: 3,10,0,10'] }), DIALECTS.simcom)).toEqual({
      pin: 3,
      puk: 10,
    });
  });

  it('Quectel AT+QPINC="SC": +QPINC: "SC",<pin1 counter>,<puk1 counter>', async () => {
    const at = modem({ 'AT+QPINC="SC"': ['+QPINC: "SC",1,10'] });
    expect(await readCounters(at, DIALECTS.quectel)).toEqual({ pin: 1, puk: 10 });
  });

  it('falls back to TS 27.007 AT+CPINR when the vendor command is missing', async () => {
    const at = modem({ 'AT+CPINR': ['+CPINR: SIM PIN,3,3', '+CPINR: SIM PUK,8,10'] });
    expect(await readCounters(at, DIALECTS.simcom)).toEqual({ pin: 3, puk: 8 });
  });
});

describe('PIN1 lock and SIM start (issue 14 items 2 and 4)', () => {
  it('AT+CLCK="SC",2 (TS 27.007 §7.4): 1 enabled, 0 disabled, undefined when unanswered', async () => {
    expect(await readPinLock(modem({ 'AT+CLCK="SC",2': ['+CLCK: 1'] }))).toBe(true);
    expect(await readPinLock(modem({ 'AT+CLCK="SC",2': ['+CLCK: 0'] }))).toBe(false);
    expect(await readPinLock(modem({}))).toBeUndefined();
  });

  it('Quectel AT+QINISTAT: the 1 (CPIN ready) in its sum says the SIM has started; 0 while it starts', async () => {
    const started = DIALECTS.quectel.simStarted!;
    expect(await started(modem({ 'AT+QINISTAT': ['+QINISTAT: 0'] }))).toBe(false);
    expect(await started(modem({ 'AT+QINISTAT': ['+QINISTAT: 1'] }))).toBe(true);
    expect(await started(modem({ 'AT+QINISTAT': ['+QINISTAT: 7'] }))).toBe(true);
    expect(await started(modem({}))).toBe(true);
  });
});
