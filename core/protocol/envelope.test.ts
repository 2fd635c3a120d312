import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { vcard } from '../../bench/fixtures.js';
import { photoBytes } from '../../test/support/photo.js';
import { encodeRequest } from './codec.js';
import { COMPRESS_ABOVE, ENVELOPE_DEFLATE, ENVELOPE_PLAIN, unwrap, wrap } from './envelope.js';

/** An upload of `n` vCards as the engine sends it (bench/fixtures.ts vcard: realistic fields, no template repeats). */
function upload(n: number): Uint8Array {
  const changes = Array.from(
    { length: n },
    (_, i) => [0, `c${i}`, 0, 1_700_000_000_000 + i, vcard(i)] as const,
  );
  return encodeRequest({
    type: 'upload',
    req: 1,
    subscriber: '001010000000102',
    batch: 1,
    changes: changes as never,
  });
}

describe('the payload envelope (issue 20: compression, negotiated per session)', () => {
  it('a batch of vCards goes deflated and comes back byte for byte; zlib (a second implementation) agrees both ways', async () => {
    const cbor = upload(200);
    const wrapped = await wrap(cbor, { compress: true, envelope: true });
    expect(wrapped[0]).toBe(ENVELOPE_DEFLATE);
    expect(wrapped.length).toBeLessThan(cbor.length / 2);
    expect(Buffer.from(inflateRawSync(wrapped.subarray(1))).equals(Buffer.from(cbor))).toBe(true);
    const theirs = Uint8Array.from([ENVELOPE_DEFLATE, ...deflateRawSync(cbor)]);
    for (const payload of [wrapped, theirs]) {
      const opened = await unwrap(payload, 4 * 1024 * 1024);
      expect(opened).toMatchObject({ compressed: true, acceptsCompressed: true });
      expect(Buffer.from(opened.cbor).equals(Buffer.from(cbor))).toBe(true);
    }
  });

  it('small messages and photos go plain: with the envelope byte when asked, bare CBOR when not', async () => {
    const small = encodeRequest({ type: 'probe', req: 1, subscriber: '001010000000102', after: 0 });
    expect(small.length).toBeLessThanOrEqual(COMPRESS_ABOVE);
    expect(await wrap(small, { compress: true, envelope: true })).toEqual(
      Uint8Array.from([ENVELOPE_PLAIN, ...small]),
    );
    expect(await wrap(small, { compress: true, envelope: false })).toEqual(small);
    const photo = encodeRequest({
      type: 'upload-part',
      req: 2,
      subscriber: '001010000000102',
      category: 'archive',
      id: 'p',
      offset: 0,
      size: 100_000,
      hash: new Uint8Array(32),
      bytes: photoBytes(100_000),
    });
    expect((await wrap(photo, { compress: true, envelope: true }))[0]).toBe(ENVELOPE_PLAIN);
    expect(await unwrap(small, 4096)).toEqual({ cbor: small, compressed: false, acceptsCompressed: false });
  });

  it('a large message is judged by 4 KiB from its middle: photo bytes there, and it goes plain undeflated', async () => {
    const page = new Uint8Array(48 * 1024);
    page.set(photoBytes(8 * 1024, 9), 20 * 1024);
    // Whole, it would deflate well (40 KiB of zeros); its middle says it is media, so it is not tried.
    expect((await wrap(page, { compress: true, envelope: true }))[0]).toBe(ENVELOPE_PLAIN);
    const cards = upload(120);
    expect(cards.length).toBeGreaterThan(16 * 1024);
    expect((await wrap(cards, { compress: true, envelope: true }))[0]).toBe(ENVELOPE_DEFLATE);
  });

  it('a 64 KiB chunk of photo bytes (a substance reply) goes plain without any deflate stream being set up', async () => {
    const made = vi.spyOn(globalThis, 'CompressionStream');
    try {
      const chunk = photoBytes(64 * 1024, 3);
      expect(await wrap(chunk, { compress: true, envelope: false })).toBe(chunk);
      expect(made).not.toHaveBeenCalled();
    } finally {
      made.mockRestore();
    }
  });

  it('a large message whose sample has no repeats but few distinct bytes (random letters) is still deflated: Huffman alone saves an eighth', async () => {
    let x = 7;
    const letters = Uint8Array.from({ length: 64 * 1024 }, () => {
      x = (x * 1103515245 + 12345) >>> 0;
      return 97 + ((x >>> 16) % 26);
    });
    expect((await wrap(letters, { compress: true, envelope: true }))[0]).toBe(ENVELOPE_DEFLATE);
  });

  it("a deflate bomb is refused at the receiver's limit, and garbage after 00 is malformed", async () => {
    const bomb = Uint8Array.from([ENVELOPE_DEFLATE, ...deflateRawSync(new Uint8Array(64 * 1024 * 1024))]);
    expect(bomb.length).toBeLessThan(100_000);
    await expect(unwrap(bomb, 4 * 1024 * 1024)).rejects.toMatchObject({
      name: 'ProtocolError',
      kind: 'too-large',
    });
    await expect(unwrap(Uint8Array.from([0, 0xff, 0xfe, 0x12, 0x34]), 4096)).rejects.toMatchObject({
      kind: 'malformed',
    });
    await expect(unwrap(Uint8Array.of(0), 4096)).rejects.toMatchObject({ kind: 'malformed' });
  });
});
