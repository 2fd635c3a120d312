import { deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import { type DeflateCodec, inflatesPast } from '../core/protocol/index.js';

/**
 * Raw deflate through node:zlib for the server (core/protocol/envelope.ts
 * DeflateCodec). A message under `SYNC_BELOW` bytes, what nearly every
 * request and reply is, goes through zlib in one call on this thread: a
 * 20 KiB batch inflates in ~25 µs that way, against ~300 µs through a
 * DecompressionStream (its stream set-up and a hop to the thread pool per
 * message; measured beside each other, issue 20). Larger ones go through
 * the thread pool, so a big page does not hold up the other terminals.
 * Inflating stops at `limit` bytes out (zlib's `maxOutputLength`) in both
 * paths: a small bomb costs at most what a plain message of the limit would.
 */
const SYNC_BELOW = 64 * 1024;

export const nodeDeflate: DeflateCodec = {
  async deflate(bytes) {
    if (bytes.length < SYNC_BELOW) return deflateRawSync(bytes);
    return new Promise((resolve, reject) =>
      deflateRaw(bytes, (error, out) => (error ? reject(error) : resolve(out))),
    );
  },
  async inflate(bytes, limit) {
    // zlib wants at least one byte of room; a limit of 0 still refuses any output.
    const maxOutputLength = Math.max(1, limit + 1);
    const checked = (out: Buffer) => {
      if (out.length > limit) throw inflatesPast(limit);
      return out;
    };
    try {
      if (bytes.length < SYNC_BELOW) return checked(inflateRawSync(bytes, { maxOutputLength }));
      return checked(
        await new Promise<Buffer>((resolve, reject) =>
          inflateRaw(bytes, { maxOutputLength }, (error, out) => (error ? reject(error) : resolve(out))),
        ),
      );
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw inflatesPast(limit);
      throw e;
    }
  },
};
