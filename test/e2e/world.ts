import type { SimTerminal, SimWorld } from '../../cli/sim-world.js';
import { CATEGORIES, type Category, fromUtf8 } from '../../core/index.js';

export const IMSI = '001010000000102';
export const ICCID = '8988211000000430010';
export const LOGIN = 'login-secret-1';
export const TERMINAL_PASSWORD = 'terminal-pw';

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
