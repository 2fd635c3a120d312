import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guardConnection, PacketSizeGuard } from './packet-guard.js';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));

describe('PacketSizeGuard (MQTT 3.1.1 §2.2.3 remaining length)', () => {
  it('follows packets across chunk boundaries, one byte at a time', () => {
    // PINGREQ, then PUBLISH QoS 0 of remaining length 321 (0xC1 0x02), then PINGREQ.
    const publish = new Uint8Array(2 + 1 + 321);
    publish.set(hex('30 C1 02'));
    const stream = new Uint8Array([...hex('C0 00'), ...publish.subarray(0, 324), ...hex('C0 00')]);
    const guard = new PacketSizeGuard(321);
    for (const byte of stream) expect(guard.check(Uint8Array.of(byte))).toBeUndefined();
    expect(new PacketSizeGuard(321).check(stream)).toBeUndefined();
    expect(new PacketSizeGuard(320).check(stream)).toMatch(/321 bytes exceeds 320/);
  });

  it('refuses a header that announces too much before any of the body arrives', () => {
    // 0xFF 0xFF 0xFF 0x7F: the largest remaining length, 268 435 455.
    expect(new PacketSizeGuard(1024).check(hex('30 FF FF FF 7F'))).toMatch(/268435455 bytes/);
    expect(new PacketSizeGuard(2 ** 28).check(hex('30 FF FF FF 7F'))).toBeUndefined();
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(new PacketSizeGuard(2 ** 28).check(hex('30 80 80 80 80 01'))).toBe('malformed remaining length');
  });
});

describe('guardConnection', () => {
  it('passes bytes both ways and destroys the connection on a violation', async () => {
    const inner = new PassThrough();
    const reasons: string[] = [];
    const outer = guardConnection(inner, 16, (r) => reasons.push(r));
    const read: Buffer[] = [];
    outer.on('data', (b: Buffer) => read.push(b));
    inner.write(Buffer.from(hex('C0 00')));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(read)).toEqual(Buffer.from(hex('C0 00')));
    const closed = new Promise((r) => outer.once('close', r));
    inner.write(Buffer.from(hex('30 11')));
    await closed;
    expect(reasons).toEqual(['packet of 17 bytes exceeds 16']);
    expect(inner.destroyed).toBe(true);
  });
});

describe('guardConnection writes', () => {
  it('a packet written in a cork (as mqtt-packet writes one) goes to the connection as one write, bytes in order', async () => {
    const inner = new PassThrough();
    const writes: Buffer[] = [];
    const write = inner.write.bind(inner);
    inner.write = ((chunk: Buffer, ...rest: never[]) => {
      writes.push(Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as typeof inner.write;
    const outer = guardConnection(inner, 1024, () => {});
    // PUBLISH QoS 1 as mqtt-packet's writeToStream writes it: fixed header, topic, packet id, payload.
    outer.cork();
    for (const part of ['32 0a', '00 03 61 2f 62', '00 07', '68 69 21']) outer.write(Buffer.from(hex(part)));
    process.nextTick(() => outer.uncork());
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([Buffer.from(hex('32 0a 00 03 61 2f 62 00 07 68 69 21'))]);
    outer.write(Buffer.from(hex('40 02 00 07')));
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(2);
  });

  it('issue 20: a packet with a payload of 64 KiB or more goes on corked, its payload not copied, bytes in order', async () => {
    const inner = new PassThrough();
    const writes: Buffer[] = [];
    let corked = 0;
    const write = inner.write.bind(inner);
    inner.write = ((chunk: Buffer, ...rest: never[]) => {
      writes.push(chunk);
      if (inner.writableCorked > 0) corked++;
      return write(chunk, ...rest);
    }) as typeof inner.write;
    const received: Buffer[] = [];
    inner.on('data', (b: Buffer) => received.push(b));
    const outer = guardConnection(inner, 1 << 20, () => {});
    const payload = Buffer.alloc(200_000, 0x5a);
    outer.cork();
    for (const part of [Buffer.from(hex('30 c3 9a 0c')), Buffer.from(hex('00 03 61 2f 62')), payload])
      outer.write(part);
    process.nextTick(() => outer.uncork());
    await new Promise((r) => setImmediate(r));
    // Handed on as they came, the payload itself (no copy), all three inside one cork.
    expect(writes).toHaveLength(3);
    expect(writes[2]).toBe(payload);
    expect(corked).toBe(3);
    expect(Buffer.concat(received)).toEqual(
      Buffer.concat([Buffer.from(hex('30 c3 9a 0c 00 03 61 2f 62')), payload]),
    );
  });
});
