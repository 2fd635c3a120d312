import type { AtEngine } from './at-engine.js';
import { AtError } from './at-errors.js';

export type DialectName = 'quectel' | 'simcom' | 'generic';

/** Asks the modem for the PIN1 / PUK1 tries left; rejects 'not-supported' when it cannot say. */
type CounterQuery = (at: AtEngine) => Promise<{ pin: number; puk: number }>;

export interface Dialect {
  readonly name: DialectName;
  /** Run after ATE0 / AT+CMEE=1 on every (re)start: hot-swap reporting and registration URCs. */
  readonly init: readonly string[];
  /** ICCID commands to try in order (each answers "<prefix> <digits>"), before AT+CRSM. */
  readonly iccid: readonly { command: string; prefix: string }[];
  /** PIN counter commands to try in order. */
  readonly counters: readonly CounterQuery[];
  /**
   * Whether a SIM that +CPIN calls READY has finished starting, where the
   * modem can say more than +CPIN does (Quectel +QINISTAT). Absent: +CPIN is all.
   */
  readonly simStarted?: (at: AtEngine) => Promise<boolean>;
}

const fieldsOf = (line: string, prefix: string) =>
  line
    .slice(prefix.length)
    .split(',')
    .map((f) => f.trim().replace(/^"|"$/g, ''));

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

/** One answer line with `prefix`, as fields; rejects 'not-supported' when there is none. */
async function ask(at: AtEngine, command: string, prefix: string): Promise<string[][]> {
  const { lines } = await at.command(command, { prefix });
  const found = lines.filter((l) => l.startsWith(prefix)).map((l) => fieldsOf(l, prefix));
  if (found.length === 0) throw new AtError('not-supported', command, `${command}: no ${prefix} line`);
  return found;
}

function counters(command: string, pin: number | undefined, puk: number | undefined) {
  if (pin === undefined || puk === undefined) {
    throw new AtError('not-supported', command, `${command}: no PIN1/PUK1 counters in the answer`);
  }
  return { pin, puk };
}

/** TS 27.007 §8.65: +CPINR: <code>,<retries>,<default retries>, one line per code. */
const CPINR: CounterQuery = async (at) => {
  const rows = await ask(at, 'AT+CPINR', '+CPINR:');
  const of = (code: string) => num(rows.find((r) => r[0] === code)?.[1]);
  return counters('AT+CPINR', of('SIM PIN'), of('SIM PUK'));
};

/** Quectel: +QPINC: "SC",<pin1 counter>,<puk1 counter>. */
const QPINC: CounterQuery = async (at) => {
  const row = (await ask(at, 'AT+QPINC="SC"', '+QPINC:')).find((r) => r[0] === 'SC');
  return counters('AT+QPINC', num(row?.[1]), num(row?.[2]));
};

/**
 * SIMCom: +SPIC: <pin1>,<puk1>,<pin2>,<puk2> (SIM7500/SIM7600 AT manual,
 * "Times remain to input SIM PIN/PUK"; oFono's drivers/atmodem/sim.c
 * at_spic_cb reads the same order; a SIM7600 answers "+SPIC: 3,10,0,10").
 */
const SPIC: CounterQuery = async (at) => {
  const [row] = await ask(at, 'AT+SPIC', '+SPIC:');
  return counters('AT+SPIC', num(row?.[0]), num(row?.[1]));
};

/**
 * Quectel AT+QINISTAT (EC2x AT manual §5.9): a sum of 1 = CPIN ready (PIN
 * operations allowed), 2 = SMS initialised, 4 = phonebook initialised; 0
 * while the SIM is still starting. A modem without it has only +CPIN to go by.
 */
const QINISTAT = async (at: AtEngine): Promise<boolean> => {
  try {
    const [row] = await ask(at, 'AT+QINISTAT', '+QINISTAT:');
    return ((num(row?.[0]) ?? 1) & 1) !== 0;
  } catch (e) {
    if (e instanceof AtError && e.kind === 'not-supported') return true;
    throw e;
  }
};

/**
 * AT+CLCK="SC",2 (TS 27.007 §7.4): +CLCK: 1 when PIN1 is enabled, 0 when the
 * SIM needs no PIN. Undefined when the modem does not answer it.
 */
export async function readPinLock(at: AtEngine): Promise<boolean | undefined> {
  try {
    const [row] = await ask(at, 'AT+CLCK="SC",2', '+CLCK:');
    const status = num(row?.[0]);
    return status === undefined ? undefined : status === 1;
  } catch (e) {
    if (e instanceof AtError && e.kind === 'not-supported') return undefined;
    throw e;
  }
}

const REGISTRATION_URCS = ['AT+CREG=1', 'AT+CEREG=1'];
const GENERIC_ICCID = [
  { command: 'AT+CCID', prefix: '+CCID:' },
  { command: 'AT+ICCID', prefix: '+ICCID:' },
];

export const DIALECTS: Record<DialectName, Dialect> = {
  quectel: {
    name: 'quectel',
    // SIM hot-plug detection on, then +QSIMSTAT reports (Quectel EC2x AT manual §5.x).
    init: ['AT+QSIMDET=1,0', 'AT+QSIMSTAT=1', ...REGISTRATION_URCS],
    iccid: [{ command: 'AT+QCCID', prefix: '+QCCID:' }, ...GENERIC_ICCID],
    counters: [QPINC, CPINR],
    simStarted: QINISTAT,
  },
  simcom: {
    name: 'simcom',
    // SIM7600: hot-swap on; removal is reported as +SIMCARD: NOT AVAILABLE.
    init: ['AT+UIMHOTSWAPON=1', ...REGISTRATION_URCS],
    iccid: [{ command: 'AT+CICCID', prefix: '+ICCID:' }, ...GENERIC_ICCID],
    counters: [SPIC, CPINR],
  },
  generic: {
    name: 'generic',
    init: REGISTRATION_URCS,
    iccid: GENERIC_ICCID,
    counters: [CPINR],
  },
};

/** Picks the dialect from ATI / AT+CGMI / AT+CGMM text (V.250 §6.1.3, TS 27.007 §5.1–5.2). */
export function detectDialect(identity: string): DialectName {
  if (/quectel|\bE[CG]2[015]\b|\bEG9[15]\b|\bBG9[56]\b/i.test(identity)) return 'quectel';
  if (/simcom|\bSIM7[0-9]{3}/i.test(identity)) return 'simcom';
  return 'generic';
}

/** A hot-swap URC's meaning: Quectel +QSIMSTAT, SIMCom +SIMCARD, or the generic +CPIN (TS 27.007 §8.3). */
export function simEventOf(line: string): 'inserted' | 'removed' | undefined {
  if (line.startsWith('+QSIMSTAT:')) {
    const status = fieldsOf(line, '+QSIMSTAT:')[1];
    return status === '1' ? 'inserted' : status === '0' ? 'removed' : undefined;
  }
  if (line.startsWith('+SIMCARD:')) {
    const text = line.slice(9).trim().toUpperCase();
    return text === 'NOT AVAILABLE' ? 'removed' : text === 'AVAILABLE' ? 'inserted' : undefined;
  }
  if (line.startsWith('+CPIN:')) {
    const state = line.slice(6).trim().toUpperCase();
    if (state === 'NOT INSERTED') return 'removed';
    // NOT READY is transitional (the card is being reset); it says nothing yet.
    return state === 'NOT READY' ? undefined : 'inserted';
  }
  return undefined;
}

/** The first line of `lines` starting with `prefix`, or undefined. */
export function lineWith(lines: readonly string[], prefix: string): string | undefined {
  return lines.find((l) => l.startsWith(prefix));
}

/** Comma-separated fields after `prefix`, quotes removed. */
export function fields(line: string, prefix: string): string[] {
  return fieldsOf(line, prefix);
}

/**
 * PIN1 and PUK1 tries left, asking the dialect's commands in turn (vendor
 * first, then TS 27.007 +CPINR). Rejects 'not-supported' when none answers.
 */
export async function readCounters(at: AtEngine, dialect: Dialect): Promise<{ pin: number; puk: number }> {
  let last: unknown;
  for (const query of dialect.counters) {
    try {
      return await query(at);
    } catch (e) {
      if (!(e instanceof AtError) || e.kind !== 'not-supported') throw e;
      last = e;
    }
  }
  throw new AtError('not-supported', 'PIN counters', 'the modem reports no PIN counters', undefined, last);
}
