import { isHalError } from '../../hal/index.js';
import {
  type AtEngine,
  CsimTransport,
  detectDialect,
  parseFinal,
  simEventOf,
} from '../../hal-modem/index.js';
import { crash, type FuzzOptions, type FuzzResult, mutateBytes, newResult } from './fuzz-result.js';
import { Seeded } from './seeded.js';

/** Lines modems send (TS 27.007, V.250, Quectel and SIMCom URCs), to mutate. */
const SEEDS = [
  'OK',
  'ERROR',
  '+CME ERROR: 10',
  '+CME ERROR: 14',
  '+CME ERROR: SIM not inserted',
  '+CMS ERROR: 500',
  'NO CARRIER',
  'RDY',
  '+CPIN: READY',
  '+CPIN: SIM PIN',
  '+CPIN: NOT INSERTED',
  '+CPIN: NOT READY',
  '+QSIMSTAT: 0,1',
  '+QSIMSTAT: 1,0',
  '+SIMCARD: NOT AVAILABLE',
  '+SIMCARD: AVAILABLE',
  '+CSIM: 4,"9000"',
  '+CSIM: 8,"63C39000"',
  '+CSIM: 24,"98881201000040031 0F09000"'.replace(' ', ''),
  '+CSQ: 20,99',
  '+CREG: 0,1',
  'Quectel EC25 Revision: EC25EFAR06A06M4G',
  'SIMCOM_SIM7600E-H',
];

const latin1 = new TextDecoder('latin1');

/** An AtEngine stand-in whose every command is answered by the given lines (CsimTransport uses only command()). */
function answering(lines: string[]): AtEngine {
  return { command: async () => ({ lines }) } as unknown as AtEngine;
}

/**
 * Issue 21 fuzzing: hal-modem's AT line parsers — final result codes
 * (parseFinal), hot-swap URCs (simEventOf), dialect detection, and the
 * AT+CSIM answer parser (CsimTransport, fed through an engine stand-in) —
 * with mutated real lines. Parsers return (a value or undefined); the CSIM
 * answer is bytes or HalError. Anything else thrown is a crash.
 */
export async function fuzzAtLines(options: FuzzOptions): Promise<FuzzResult> {
  const random = new Seeded(options.seed);
  const result = newResult('at-lines', options.seed);
  for (let i = 0; i < options.count; i++) {
    const seed = new TextEncoder().encode(random.pick(SEEDS));
    const line = latin1.decode(mutateBytes(random, seed));
    result.inputs++;
    try {
      const final = parseFinal(line);
      if (final && !['ok', 'error', 'cme', 'cms', 'call'].includes(final.type))
        throw new Error(`final ${final.type}`);
      const event = simEventOf(line);
      if (event !== undefined && event !== 'inserted' && event !== 'removed')
        throw new Error(`event ${event}`);
      detectDialect(line);
    } catch (e) {
      crash(result, i, JSON.stringify(line), e);
      continue;
    }
    const lines = random.chance(0.8) ? [line] : [line, latin1.decode(mutateBytes(random, seed))];
    try {
      const bytes = await new CsimTransport(answering(lines)).transmit(
        Uint8Array.of(0x00, 0xb0, 0x00, 0x00, 0x0a),
      );
      if (bytes.length < 2) throw new Error(`a CSIM answer of ${bytes.length} bytes was taken`);
      result.accepted++;
    } catch (e) {
      if (isHalError(e)) result.refused++;
      else crash(result, i, JSON.stringify(lines), e);
    }
  }
  return result;
}
