import { describe, expect, it } from 'vitest';
import type { ByteStream } from '../../hal/index.js';
import { byteStreamDuplex, joinChunks } from './byte-stream-duplex.js';

/** A ByteStream that records each write. */
function recordingStream(): { stream: ByteStream; writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  const stream: ByteStream = {
    write: async (bytes) => {
      writes.push(Uint8Array.from(bytes));
    },
    onData: () => () => {},
    onClose: () => () => {},
    close: () => {},
  };
  return { stream, writes };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('byteStreamDuplex', () => {
  it('a packet mqtt-packet writes in a cork (header, topic, id, payload) is one ByteStream.write, in order', async () => {
    const { stream, writes } = recordingStream();
    const traffic = { sent: 0, received: 0 };
    const duplex = byteStreamDuplex(stream, traffic);
    duplex.cork();
    for (const part of [
      [0x32, 0x0a],
      [0x00, 0x03, 0x61, 0x2f, 0x62],
      [0x00, 0x07],
      [0x68, 0x69, 0x21],
    ])
      duplex.write(Uint8Array.from(part));
    duplex.uncork();
    await settle();
    expect(writes).toEqual([
      Uint8Array.of(0x32, 0x0a, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x00, 0x07, 0x68, 0x69, 0x21),
    ]);
    expect(traffic.sent).toBe(12);
  });

  it('writes made while one is in flight go out together next; each byte counted once', async () => {
    const { stream, writes } = recordingStream();
    const traffic = { sent: 0, received: 0 };
    const duplex = byteStreamDuplex(stream, traffic);
    duplex.write(Uint8Array.of(1));
    duplex.write(Uint8Array.of(2, 3));
    duplex.write(Uint8Array.of(4));
    await settle();
    expect(writes).toEqual([Uint8Array.of(1), Uint8Array.of(2, 3, 4)]);
    expect(traffic.sent).toBe(4);
  });

  it('issue 20: a payload of 64 KiB or more is written after its joined head, not copied into it', async () => {
    const writes: Uint8Array[] = [];
    const stream: ByteStream = {
      write: async (bytes) => {
        writes.push(bytes);
      },
      onData: () => () => {},
      onClose: () => () => {},
      close: () => {},
    };
    const traffic = { sent: 0, received: 0 };
    const duplex = byteStreamDuplex(stream, traffic);
    const payload = new Uint8Array(100_000).fill(7);
    duplex.cork();
    for (const part of [Uint8Array.of(0x30, 0xa9, 0x8d, 0x06), Uint8Array.of(0x00, 0x01, 0x61), payload])
      duplex.write(part);
    duplex.uncork();
    await settle();
    expect(writes.map((w) => w.length)).toEqual([7, 100_000]);
    expect(writes[0]).toEqual(Uint8Array.of(0x30, 0xa9, 0x8d, 0x06, 0x00, 0x01, 0x61));
    // The payload's own memory: no copy was made.
    expect(writes[1]?.buffer).toBe(payload.buffer);
    expect(traffic.sent).toBe(100_007);
  });

  it('joinChunks keeps a lone chunk as it is and joins several in order', () => {
    const lone = Uint8Array.of(9, 8, 7).subarray(1);
    expect(joinChunks([{ chunk: lone }])).toEqual(Uint8Array.of(8, 7));
    expect(
      joinChunks([{ chunk: Uint8Array.of(1) }, { chunk: new Uint8Array(0) }, { chunk: Uint8Array.of(2, 3) }]),
    ).toEqual(Uint8Array.of(1, 2, 3));
  });
});
