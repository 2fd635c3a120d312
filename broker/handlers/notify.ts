import { type Category, downTopic } from '../../core/protocol/index.js';
import type { RequestDeps } from './handled.js';

/** [0044]: tell the subscriber's other terminals online that the server holds updates for them. */
export async function notify(
  deps: RequestDeps,
  subscriber: string,
  from: string,
  changed: Category[],
  latest: number,
): Promise<void> {
  if (changed.length === 0) return;
  const terminals = await deps.store.listTerminals(subscriber);
  for (const t of terminals) {
    if (t.terminalId === from || t.revoked) continue;
    // Alone, the server knows who is online; in a cluster the fan-out finds them.
    if (!deps.clustered && !deps.sessions.isOnline(t.terminalId, 't')) continue;
    const categories = t.categories.filter((c) => changed.includes(c));
    if (categories.length === 0) continue;
    await deps.publish(downTopic(t.terminalId, 't'), { type: 'updates', latest, categories });
  }
}
