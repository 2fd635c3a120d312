import type { UploadPartRequest } from '../../core/protocol/index.js';
import { uploadPart } from '../sync/staging.js';
import { type Handled, refuse, type SyncCall, tally } from './handled.js';

/** [0094]: a part of a body too large for an upload batch, staged until an upload names it. */
export async function handleUploadPart(
  { deps, session, who }: SyncCall,
  request: UploadPartRequest,
): Promise<Handled> {
  const part = await uploadPart(deps.store, session.terminalId, request, deps.now(), deps.limits);
  if (part.kind === 'refused') return refuse(request.req, part.code, part.reason, who);
  // A part that only asks how far the server got changes nothing: not audited.
  const audit = part.stored > 0 ? tally({ ...who, uploadedBytes: part.stored }) : null;
  return { reply: { type: 'part-ack', req: request.req, got: part.got }, audit };
}
