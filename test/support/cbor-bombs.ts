import { encode } from 'cborg';

/**
 * Decode bombs (issue 13 item 5): uploads that are cheap to make and were
 * costly to refuse, built byte by byte apart from core/protocol's codec,
 * which must refuse them. For the attack tests and the abuse bench alike.
 */

/** The shipped message limit (core/protocol/codec.ts): a bomb as large as the server takes. */
export const BOMB_BYTES = 4 * 1024 * 1024;

/** The shortest CBOR head of an array of n (decoding is strict, RFC 8949 §4.2.1). */
export function arrayHead(n: number): number[] {
  if (n < 24) return [0x80 | n];
  if (n < 256) return [0x98, n];
  if (n < 65_536) return [0x99, n >> 8, n & 0xff];
  return [0x9a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** An upload of `subscriber`, req `req`, whose `changes` start with `head`. */
export function uploadWith(subscriber: string, req: number, head: number[]): number[] {
  const envelope = [...encode({ type: 'upload', req, subscriber, batch: 1 })];
  envelope[0] = 0xa5; // one entry more: "changes"
  return [...envelope, ...encode('changes'), ...head];
}

/** BOMB_BYTES: an upload whose changes are one array of empty maps (a0 × ~4.2 million). */
export function flatEmptyMaps(subscriber: string, req: number): Uint8Array {
  const n = BOMB_BYTES - uploadWith(subscriber, req, arrayHead(BOMB_BYTES)).length;
  const bytes = new Uint8Array(BOMB_BYTES).fill(0xa0);
  bytes.set(uploadWith(subscriber, req, arrayHead(n)));
  return bytes;
}

/** An upload whose changes are `outer` arrays of `inner` copies of the one-byte item `item`. */
export function nestedArrays(
  subscriber: string,
  req: number,
  outer: number,
  inner: number,
  item: number,
): Uint8Array {
  const block = [...arrayHead(inner), ...new Array<number>(inner).fill(item)];
  const head = uploadWith(subscriber, req, arrayHead(outer));
  const bytes = new Uint8Array(head.length + outer * block.length);
  bytes.set(head);
  for (let i = 0; i < outer; i++) bytes.set(block, head.length + i * block.length);
  return bytes;
}
