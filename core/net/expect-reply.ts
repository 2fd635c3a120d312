import { SyncError } from '../errors.js';
import type { Reply } from '../protocol/index.js';

/** The reply, narrowed to the type the request calls for; any other is a protocol error. */
export function expectReply<T extends Reply['type']>(reply: Reply, type: T): Extract<Reply, { type: T }> {
  if (reply.type !== type) throw new SyncError('protocol', `expected ${type}, got ${reply.type}`);
  return reply as Extract<Reply, { type: T }>;
}
