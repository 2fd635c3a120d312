/** 2^20 bytes, the unit photo and body sizes are given in. */
export const MIB = 1024 * 1024;

/**
 * A photo's bytes as a terminal holds them: JPEG (or HEIC) data is already
 * compressed, so it looks random to deflate. A seeded xorshift32 stream:
 * the same bytes every run, none of the repetition that would let the
 * protocol's compression (core/protocol/envelope.ts) shrink it.
 */
export function photoBytes(bytes: number, seed = 0): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
