import { type DownloadRequest, decodeReply } from '../../core/protocol/index.js';
import type { TerminalRow } from '../store/sync-store.js';
import { downloadPage } from '../sync/download.js';
import { type Handled, refuse, type SyncCall, tally } from './handled.js';

/** A page of the changes after the terminal's anchor, in its categories and filters ([0033], [0085], [0094]). */
export async function handleDownload(
  { deps, terminal, who }: SyncCall,
  request: DownloadRequest,
): Promise<Handled> {
  const wanted = request.categories;
  const page = await downloadPage(deps.store, {
    subscriber: request.subscriber,
    categories: wanted ? terminal.categories.filter((c) => wanted.includes(c)) : terminal.categories,
    filters: terminal.filters,
    after: request.after,
    upTo: request.upTo,
    maxBytes: request.maxBytes,
    strict: request.strict,
    stubs: request.stubs,
    maxMessageBytes: deps.limits.maxMessageBytes - 1024,
    now: deps.now(),
    // A catch-up (upTo set: a category added, or brought back after an erase) wants every version:
    // the terminal may no longer hold what it once uploaded.
    held: request.upTo === undefined ? heldVersions(terminal) : undefined,
  });
  if (page.kind === 'out-of-order') {
    return refuse(
      request.req,
      'out-of-order',
      `anchor ${request.after} is past the latest ${page.latest}`,
      who,
    );
  }
  return {
    reply: { type: 'changes', req: request.req, changes: page.changes, next: page.next, more: page.more },
    audit: tally({ ...who, downloaded: page.changes.length, downloadedBytes: page.bytes }),
  };
}

/**
 * The versions the terminal's last applied batch wrote (its stored ack's
 * `seqs`): its own edits, held since it took the ack. Until the ack reaches
 * it they are unacknowledged local edits, which a download never replaces
 * (core/store/download-apply.ts) and a retry of the batch settles. A new
 * registration clears the stored ack, so a terminal starting afresh gets
 * every version again.
 */
function heldVersions(terminal: TerminalRow): ReadonlySet<number> | undefined {
  if (terminal.lastAck === null) return undefined;
  const ack = decodeReply(terminal.lastAck);
  return ack.type === 'upload-ack' ? new Set(ack.seqs.filter((seq) => seq > 0)) : undefined;
}
