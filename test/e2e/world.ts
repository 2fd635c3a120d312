import { AkaVault, newServerKey, parseKeyring } from '../../broker/index.js';
import { KeyringAgent, type SimTerminal, SimWorld, type SimWorldOptions } from '../../cli/sim-world.js';
import {
  CATEGORIES,
  type Category,
  fromUtf8,
  type PolicyName,
  type SyncReport,
  type Terminal,
  type TerminalOptions,
} from '../../core/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { AKA_KEYS } from '../support/aka-keys.js';

export const IMSI = '001010000000102';
export const ICCID = '8988211000000430010';
export const LOGIN = 'login-secret-1';
export const TERMINAL_PASSWORD = 'terminal-pw';

/**
 * A server with the subscriber on it (IMSI, ICCID, LOGIN) and the user's SIM.
 * With `aka` the server also holds the SIM's K and OPc (TS 35.208 Test Set 1)
 * under a fresh vault key, and every session starts with the card answering
 * its challenge (issue 19).
 */
export async function subscriberWorld(
  options: SimWorldOptions = {},
  how: { aka?: boolean } = {},
): Promise<{ world: SimWorld; sim: VirtualUicc }> {
  const akaVault = how.aka
    ? new AkaVault(parseKeyring(JSON.stringify({ current: 'k1', keys: { k1: newServerKey() } })))
    : undefined;
  const world = await SimWorld.start(akaVault ? { ...options, akaVault } : options);
  await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
  if (!how.aka) return { world, sim: SimWorld.sim() };
  await world.server.admin.setAkaKey({ subscriber: IMSI, ...AKA_KEYS });
  return { world, sim: SimWorld.sim(AKA_KEYS) };
}

/**
 * A terminal's first set-up as the user makes it (FIG. 8 with 10-A, or 11-A):
 * `sim` in its reader, a terminal password, the login password and the
 * categories (all by default), then the SIM out again.
 */
export async function registerWithSim(
  world: SimWorld,
  t: SimTerminal,
  sim: VirtualUicc,
  how: { policy?: PolicyName; categories?: Category[] } = {},
): Promise<void> {
  t.reader.insert(sim);
  await world.register(t, {
    policy: how.policy ?? 'fig10-subscriber-binding',
    loginPassword: LOGIN,
    terminalPassword: TERMINAL_PASSWORD,
    categories: how.categories ?? [...CATEGORIES],
  });
  t.reader.remove();
}

/**
 * A simulated terminal (SimWorld's reader and NV store) with the user's
 * keyring, registered with `sim` (`registerWithSim`), then following its
 * reader: each insertion a mount sync, each removal a demount (FIG. 16).
 */
export async function registeredTerminal(
  world: SimWorld,
  sim: VirtualUicc,
  name: string,
  how: { policy?: PolicyName; options?: TerminalOptions } = {},
): Promise<SimTerminal> {
  const agent = new KeyringAgent({ pin: '1234', terminalPassword: TERMINAL_PASSWORD });
  const t = await world.addTerminal(name, agent, how.options);
  await registerWithSim(world, t, sim, how);
  t.terminal.start();
  return t;
}

/**
 * Resolves with `terminal`'s next report of `trigger`, for readers that
 * announce the card asynchronously (pcscd polls, a modem sends a URC);
 * rejects after 10 s.
 */
export function nextReport(terminal: Terminal, trigger: SyncReport['trigger']): Promise<SyncReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${trigger} report`)), 10_000);
    const off = terminal.onReport((r) => {
      if (r.trigger !== trigger) return;
      clearTimeout(timer);
      off();
      resolve(r);
    });
  });
}

/** The record IDs a sync report says came down or went up, sorted. */
export const ids = (report: SyncReport, key: 'downloaded' | 'uploaded') =>
  report[key].map((c) => c.id).sort();

/** The user area (51) of the subscriber on the server: `category/id → body text` of live records. */
export async function userArea(world: SimWorld, subscriber = IMSI): Promise<Record<string, string>> {
  const rows = await world.server.store.recordsAfter({
    subscriber,
    after: 0,
    upTo: Number.MAX_SAFE_INTEGER,
    categories: CATEGORIES,
    limit: 1_000_000,
  });
  const out: Record<string, string> = {};
  for (const r of rows) if (r.body !== null) out[`${r.category}/${r.recordId}`] = fromUtf8(r.body);
  return out;
}

/** What a terminal holds: `category/id → body text` of live records. */
export async function terminalData(
  t: Pick<SimTerminal, 'terminal'>,
  categories: readonly Category[] = CATEGORIES,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of categories) {
    for (const r of await t.terminal.records.list(c))
      if (r.body !== null) out[`${c}/${r.id}`] = fromUtf8(r.body);
  }
  return out;
}
