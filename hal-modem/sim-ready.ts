import type { AtEngine } from './at-engine.js';
import { AtError } from './at-errors.js';
import { lineWith } from './dialect.js';

/**
 * How long to wait for a SIM that is still starting. After insertion and
 * after boot a module reads the whole card before it serves SIM commands,
 * and answers them meanwhile with +CME ERROR: 14 "SIM busy" (TS 27.007
 * §9.2.1) or +CPIN: NOT READY: a few hundred ms on a fast card, seconds on
 * Quectel EC2x and SIMCom SIM7600 with a full phonebook.
 */
export interface SimWaitOptions {
  /** Give up after this long; default 20000 ms. */
  timeoutMs?: number;
  /** First pause between tries; doubled after each busy answer. Default 100 ms. */
  firstDelayMs?: number;
  /** Longest pause between tries. Default 1600 ms. */
  maxDelayMs?: number;
}

const DEFAULTS: Required<SimWaitOptions> = { timeoutMs: 20_000, firstDelayMs: 100, maxDelayMs: 1600 };

/** +CME ERROR: 14 (SIM busy), in either reporting form. */
export function isSimBusy(e: unknown): boolean {
  return e instanceof AtError && e.cme === 14;
}

/**
 * Runs `op`, and again after a growing pause (bounded back-off) while it
 * fails because the SIM is busy or `retry` says so, until `timeoutMs` has
 * passed: then rejects AtError 'timeout' naming how long the SIM stayed busy.
 * `alive` false stops at once with the last failure (the card left).
 */
export async function whileSimBusy<T>(
  op: () => Promise<T>,
  options: SimWaitOptions = {},
  alive: () => boolean = () => true,
  retry: (e: unknown) => boolean = isSimBusy,
): Promise<T> {
  const o = { ...DEFAULTS, ...options };
  const deadline = Date.now() + o.timeoutMs;
  let pause = o.firstDelayMs;
  for (;;) {
    try {
      return await op();
    } catch (e) {
      if (!retry(e)) throw e;
      if (!alive()) throw new AtError('no-card', 'SIM start', 'the SIM left while starting', undefined, e);
      if (Date.now() + pause > deadline) {
        throw new AtError(
          'timeout',
          'SIM start',
          `the SIM was still busy after ${o.timeoutMs} ms`,
          undefined,
          e,
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, o.maxDelayMs);
  }
}

/** +CPIN: <code> (TS 27.007 §8.3) of the card now, as the modem reports it (upper case). */
export async function readCpin(at: AtEngine): Promise<string> {
  const { lines } = await at.command('AT+CPIN?', { prefix: '+CPIN:' });
  const line = lineWith(lines, '+CPIN:');
  if (line === undefined) throw new AtError('device-unavailable', 'AT+CPIN?', 'AT+CPIN?: no +CPIN line');
  return line.slice(6).trim().toUpperCase();
}

/** A +CPIN answer of a SIM still starting: it says nothing about the card yet. */
class NotReady extends Error {}

/**
 * The +CPIN state once the SIM has finished starting: READY, SIM PIN, SIM
 * PUK, … or NOT INSERTED (+CME ERROR: 10). Retries while the modem answers
 * SIM busy (CME 14) or NOT READY; `ready`, when given, must also hold for a
 * READY card (e.g. Quectel's +QINISTAT CPIN-ready bit) before it counts.
 */
export async function awaitSimState(
  at: AtEngine,
  options: SimWaitOptions = {},
  alive: () => boolean = () => true,
  ready?: (at: AtEngine) => Promise<boolean>,
): Promise<string> {
  return whileSimBusy(
    async () => {
      let state: string;
      try {
        state = await readCpin(at);
      } catch (e) {
        if (e instanceof AtError && e.kind === 'no-card') return 'NOT INSERTED';
        throw e;
      }
      if (state === 'NOT READY') throw new NotReady();
      if (state === 'READY' && ready !== undefined && !(await ready(at))) throw new NotReady();
      return state;
    },
    options,
    alive,
    (e) => e instanceof NotReady || isSimBusy(e),
  );
}
