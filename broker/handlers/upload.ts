import type { UploadRequest } from '../../core/protocol/index.js';
import type { AuditEntry } from '../store/sync-store.js';
import { applyUpload } from '../sync/upload.js';
import { type Handled, refuse, type SyncCall, tally } from './handled.js';
import { notify } from './notify.js';

/** FIG. 13/14 upload: a batch applied once, its ack stored with it; the other terminals told ([0044]). */
export async function handleUpload(call: SyncCall, request: UploadRequest): Promise<Handled> {
  const { deps, session, who } = call;
  const { store, now } = deps;
  // An applied batch is audited in its own transaction, before the reply goes out.
  const audit = (counts: Pick<AuditEntry, 'uploaded' | 'uploadedBytes'>): AuditEntry => ({
    ...tally({ ...who, ...counts }),
    at: now(),
    terminalId: session.terminalId,
  });
  const outcome = await applyUpload(store, session.terminalId, request, now(), deps.limits, audit);
  if (outcome.kind === 'refused') return refuse(request.req, outcome.refusal, outcome.refusal, who);
  if (outcome.kind === 'out-of-order') {
    return refuse(
      request.req,
      'out-of-order',
      `batch ${request.batch} is older than ${outcome.lastBatch}`,
      who,
    );
  }
  if (outcome.kind === 'too-large') {
    const message = `its acknowledgement (${outcome.ackBytes} bytes) would not fit in a message: send fewer changes per batch`;
    return refuse(request.req, 'too-large', message, who);
  }
  if (outcome.kind === 'replayed') return { reply: outcome.ack, audit: tally({ ...who, reason: 'retry' }) };
  await notify(deps, request.subscriber, session.terminalId, outcome.changed, outcome.latest);
  const written = tally({ ...who, uploaded: outcome.applied, uploadedBytes: outcome.bytes });
  return { reply: outcome.ack, audit: written, audited: true };
}
