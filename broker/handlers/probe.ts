import type { ProbeRequest } from '../../core/protocol/index.js';
import { probe } from '../sync/download.js';
import type { Handled, SyncCall } from './handled.js';

/** [0043]: does the server hold changes after the anchor, in the terminal's categories and filters? */
export async function handleProbe({ deps, terminal }: SyncCall, request: ProbeRequest): Promise<Handled> {
  const wanted = request.category
    ? terminal.categories.filter((c) => c === request.category)
    : terminal.categories;
  const result = await probe(deps.store, {
    subscriber: request.subscriber,
    categories: wanted,
    filters: terminal.filters,
    after: request.after,
    now: deps.now(),
  });
  // Accepted probes are frequent and change nothing: they are not audited.
  return { reply: { type: 'probe-result', req: request.req, ...result }, audit: null };
}
