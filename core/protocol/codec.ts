import { decode, encode } from 'cborg';
import type { z } from 'zod';
import { Reply, Request } from './messages.js';

/** Largest MQTT payload either side accepts (the broker also enforces it at the transport). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export type ProtocolErrorKind = 'too-large' | 'malformed';

/** A payload that is not a valid message. Nothing was applied. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly kind: ProtocolErrorKind,
    message: string,
    /** The request id, when the payload was CBOR with a readable `req`. */
    readonly req: number | null = null,
  ) {
    super(message);
  }
}

const DECODE_OPTIONS = {
  strict: true,
  allowUndefined: false,
  allowIndefinite: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false,
};

function decodeWith<S extends z.ZodType>(schema: S, bytes: Uint8Array, maxBytes: number): z.infer<S> {
  if (bytes.length > maxBytes) {
    throw new ProtocolError('too-large', `message of ${bytes.length} bytes exceeds ${maxBytes}`);
  }
  let value: unknown;
  try {
    value = decode(bytes, DECODE_OPTIONS);
  } catch (e) {
    throw new ProtocolError('malformed', `not CBOR: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    throw new ProtocolError(
      'malformed',
      `invalid message at ${where}: ${issue?.message ?? 'unknown'}`,
      readReq(value),
    );
  }
  return parsed.data;
}

function readReq(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const req = (value as { req?: unknown }).req;
  return typeof req === 'number' && Number.isInteger(req) && req >= 0 && req <= 0xffff_ffff ? req : null;
}

export function encodeRequest(message: Request): Uint8Array {
  return encode(message);
}

export function encodeReply(message: Reply): Uint8Array {
  return encode(message);
}

export function decodeRequest(bytes: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): Request {
  return decodeWith(Request, bytes, maxBytes);
}

export function decodeReply(bytes: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): Reply {
  return decodeWith(Reply, bytes, maxBytes);
}
