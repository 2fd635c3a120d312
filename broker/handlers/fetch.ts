import type { FetchRequest } from '../../core/protocol/index.js';
import { fetchSubstance, substanceCacheOf } from '../sync/fetch.js';
import { type Handled, refuse, type SyncCall, tally } from './handled.js';

/** [0094]: a byte range of a stubbed record's substance, of the version the stub named. */
export async function handleFetch(
  { deps, terminal, who }: SyncCall,
  request: FetchRequest,
): Promise<Handled> {
  const part = await fetchSubstance(
    deps.store,
    terminal,
    request,
    deps.limits.maxMessageBytes - 1024,
    substanceCacheOf(deps.sessions),
  );
  if (part.kind === 'gone') return refuse(request.req, 'gone', part.reason, who);
  return {
    reply: { type: 'substance', req: request.req, ...part.substance },
    audit: tally({ ...who, downloadedBytes: part.substance.bytes.length }),
  };
}
