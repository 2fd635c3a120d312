import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { vcard } from '../bench/fixtures.js';
import { ENVELOPE_DEFLATE, streamDeflate, unwrap, wrap } from '../core/protocol/index.js';
import { photoBytes } from '../test/support/photo.js';
import { nodeDeflate } from './node-deflate.js';

/** Real-looking vCards joined: what a batch's bodies are. */
const cards = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => vcard(i)));

describe("the server's deflate (node:zlib) beside the portable one (CompressionStream)", () => {
  it('each inflates what the other deflated, byte for byte, small (one call) and large (thread pool)', async () => {
    for (const bytes of [cards(40), cards(400), photoBytes(200_000)]) {
      const ours = await nodeDeflate.deflate(bytes);
      const theirs = await streamDeflate.deflate(bytes);
      expect(Buffer.from(await streamDeflate.inflate(ours, bytes.length)).equals(bytes)).toBe(true);
      expect(Buffer.from(await nodeDeflate.inflate(theirs, bytes.length)).equals(bytes)).toBe(true);
    }
  });

  it('through the envelope: a request wrapped by a terminal opens on the server, and a reply the other way', async () => {
    const cbor = cards(100);
    const request = await wrap(cbor, { compress: true, envelope: true });
    expect(request[0]).toBe(ENVELOPE_DEFLATE);
    expect(Buffer.from((await unwrap(request, 4 << 20, nodeDeflate)).cbor).equals(cbor)).toBe(true);
    const reply = await wrap(cbor, { compress: true, envelope: false, codec: nodeDeflate });
    expect(Buffer.from((await unwrap(reply, 4 << 20)).cbor).equals(cbor)).toBe(true);
  });

  it('stops at the limit in both paths: exactly the limit opens, a byte past it is too-large, a bomb costs no more', async () => {
    const exact = cards(30);
    const packed = deflateRawSync(exact);
    expect((await nodeDeflate.inflate(packed, exact.length)).length).toBe(exact.length);
    await expect(nodeDeflate.inflate(packed, exact.length - 1)).rejects.toMatchObject({
      name: 'ProtocolError',
      kind: 'too-large',
    });
    // 8 MiB of zeros deflate to ~8 KB (one call); 64 MiB to ~64 KB (thread pool).
    for (const size of [8, 64]) {
      const bomb = deflateRawSync(new Uint8Array(size * 1024 * 1024));
      await expect(nodeDeflate.inflate(bomb, 4 * 1024 * 1024)).rejects.toMatchObject({ kind: 'too-large' });
    }
  });

  it('what is not deflate is malformed through the envelope, as with the portable codec', async () => {
    for (const payload of [Uint8Array.from([0, 0xff, 0xfe, 0x12, 0x34]), Uint8Array.of(0)]) {
      await expect(unwrap(payload, 4096, nodeDeflate)).rejects.toMatchObject({ kind: 'malformed' });
      await expect(unwrap(payload, 4096)).rejects.toMatchObject({ kind: 'malformed' });
    }
  });
});
