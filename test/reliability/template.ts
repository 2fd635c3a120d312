import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyringAgent } from '../../cli/sim-world.js';
import { type Category, hashPassword, type PolicyName, Terminal, TerminalConfig } from '../../core/index.js';
import type { NvEntry } from '../../hal/index.js';
import { SimCardReader, SimNvStore, VirtualClock } from '../../hal-sim/index.js';
import { VirtualUicc } from '../../uicc/index.js';
import { InProcessServer } from './in-process-server.js';

export const IMSI = '001010000000102';
export const ICCID = '8988211000000430010';
export const LOGIN = 'login-secret-1';
export const KEYRING = { pin: '1234', terminalPassword: 'terminal-pw' };

/** The categories the histories use: enough to overlap, few enough to collide. */
export const MODEL_CATEGORIES = ['contacts', 'mail', 'pim', 'settings'] as const satisfies Category[];

/** How each of the five template terminals was registered (FIG. 8 with FIG. 10-A, or FIG. 13). */
export const TERMINAL_SETUPS: readonly { policy: PolicyName; categories: Category[] }[] = [
  { policy: 'fig10-subscriber-binding', categories: [...MODEL_CATEGORIES] },
  { policy: 'fig13-server-only', categories: ['contacts', 'mail'] },
  { policy: 'fig10-subscriber-binding', categories: ['mail', 'pim'] },
  { policy: 'fig13-server-only', categories: ['contacts', 'settings'] },
  { policy: 'fig10-subscriber-binding', categories: [...MODEL_CATEGORIES] },
];

/**
 * One subscriber with five registered terminals, made once per run: the
 * server's database file and each terminal's NV contents. Every history
 * starts from a copy, so none pays for registration's slow hashes again.
 * The terminal password is hashed with 1,000 PBKDF2 iterations (the hash
 * names its own cost): checking it without the SIM costs ~1 ms, not 115.
 */
export interface Template {
  dir: string;
  database: string;
  nv: NvEntry[][];
  terminalIds: string[];
  remove(): void;
}

export function newSim(): VirtualUicc {
  return new VirtualUicc({ iccid: ICCID, imsi: IMSI, pin: KEYRING.pin });
}

export async function makeTemplate(): Promise<Template> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'simsync-reliability-'));
  const database = join(dir, 'template.db');
  const clock = new VirtualClock();
  const server = await InProcessServer.open(database, clock);
  try {
    await server.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
    const sim = newSim();
    const nv: NvEntry[][] = [];
    const terminalIds: string[] = [];
    for (const setup of TERMINAL_SETUPS) {
      const store = new SimNvStore();
      const reader = new SimCardReader();
      const agent = new KeyringAgent({ ...KEYRING });
      const terminal = await Terminal.create({ reader, nv: store, link: server.link(), clock, agent });
      await new TerminalConfig(store).setPasswordHash(await hashPassword(KEYRING.terminalPassword, 1000));
      reader.insert(sim);
      await terminal.register({ policy: setup.policy, secret: LOGIN, categories: setup.categories });
      reader.remove();
      await terminal.stop();
      nv.push(await store.scan(''));
      terminalIds.push(terminal.terminalId);
    }
    return { dir, database, nv, terminalIds, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } finally {
    await server.close();
  }
}
