import { KeyringAgent } from '../cli/sim-world.js';
import { type Category, Terminal, type TerminalOptions, utf8 } from '../core/index.js';
import type { Clock, RadioLink } from '../hal/index.js';
import { TcpLink } from '../hal-linux/index.js';
import { SimCardReader, SimNvStore } from '../hal-sim/index.js';
import { VirtualUicc } from '../uicc/index.js';

/** Shared set-up of the benches: record bodies, SIM identities, shop-registered terminals. */

export const PIN = '1234';
export const KEYRING = { pin: PIN, terminalPassword: 'bench-password' };

/** `size` bytes of a deterministic, incompressible-looking pattern. */
export function body(seed: number, size = 200): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < out.length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

const GIVEN = ['Anna', 'Bruno', 'Chiara', 'Dmitri', 'Emeka', 'Fatima', 'Gunnar', 'Hana', 'Ines', 'Jun'];
const FAMILY = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Kowalski', 'Rossi', 'Haddad', 'Novak'];

/**
 * A contact as a vCard 3.0 (RFC 2426) of about 340–620 bytes: name, org,
 * phones, mail, address and a note whose length varies with `i`.
 */
export function vcard(i: number): Uint8Array {
  const given = GIVEN[i % GIVEN.length] as string;
  const family = FAMILY[Math.floor(i / 8) % FAMILY.length] as string;
  const note = 'Met at the regional planning meeting; prefers calls after 10:00. '.repeat(i % 5);
  const lines = [
    'BEGIN:VCARD',
    'VERSION:3.0',
    `N:${family};${given};;;`,
    `FN:${given} ${family}`,
    `ORG:Example Works ${i % 97};Field Operations`,
    `TEL;TYPE=CELL:+44 7700 ${String(900000 + (i % 100000)).padStart(6, '0')}`,
    `TEL;TYPE=WORK:+44 20 7946 ${String(i % 10000).padStart(4, '0')}`,
    `EMAIL;TYPE=INTERNET:${given.toLowerCase()}.${family.toLowerCase()}${i}@example.org`,
    `ADR;TYPE=HOME:;;${10 + (i % 190)} High Street;Springfield;;AB${i % 90} 1CD;United Kingdom`,
    `NOTE:${note.trim()}`,
    `UID:urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    'END:VCARD',
  ];
  return utf8(`${lines.join('\r\n')}\r\n`);
}

/** A subscriber ID (IMSI, 15 digits: MCC 001, MNC 01, then `n`). */
export function imsi(n: number): string {
  return `00101${String(n).padStart(10, '0')}`;
}

/** An ICCID (19 digits, the last a Luhn check digit, ITU-T E.118) for the SIM of subscriber `n`. */
export function iccid(n: number): string {
  const digits = `8988211${String(n).padStart(11, '0')}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    // Doubling starts from the digit next to the check digit.
    let d = Number(digits[digits.length - 1 - i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

export function sim(n: number): VirtualUicc {
  return new VirtualUicc({ iccid: iccid(n), imsi: imsi(n), pin: PIN });
}

/** A terminal of the benches: its own simulated reader and NV store, a real TCP link. */
export interface BenchTerminal {
  terminal: Terminal;
  reader: SimCardReader;
  nv: SimNvStore;
  card: VirtualUicc;
}

/**
 * A terminal registered at the shop (FIG. 19: no terminal password) with the
 * one-time `code`, under the FIG. 10-B subscriber binding; its SIM is out of
 * the reader afterwards.
 */
export async function shopTerminal(input: {
  port: number;
  clock: Clock;
  terminalId: string;
  subscriber: number;
  code: string;
  categories: Category[];
  timeoutMs: number;
  options?: TerminalOptions;
  /** The link to the server; a TCP link to `port` when not given. */
  link?: RadioLink;
}): Promise<BenchTerminal> {
  const reader = new SimCardReader({ name: `${input.terminalId}-reader` });
  const nv = new SimNvStore();
  const link = input.link ?? new TcpLink({ host: '127.0.0.1', port: input.port, timeoutMs: input.timeoutMs });
  const terminal = await Terminal.create(
    { reader, nv, link, clock: input.clock, agent: new KeyringAgent(KEYRING) },
    { ...input.options, terminalId: input.terminalId, timeoutMs: input.timeoutMs },
  );
  const card = sim(input.subscriber);
  reader.insert(card);
  await terminal.register({
    policy: 'fig10-subscriber-binding',
    secret: input.code,
    categories: input.categories,
    shop: true,
  });
  reader.remove();
  return { terminal, reader, nv, card };
}

/** Runs `task` over `items` with at most `limit` in flight; results in order. */
export async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
