import { Duplex } from 'node:stream';

/**
 * Aedes has no maximum packet size: its parser buffers whatever a packet's
 * header announces. This stage sits between the transport and Aedes, reads
 * each MQTT fixed header (MQTT 3.1.1 §2.2: one type byte, then the remaining
 * length as 1–4 bytes of 7 bits, least significant first) and reports a
 * packet longer than the limit before its body is buffered anywhere.
 */
export class PacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private lengthBytes = 0;
  private remaining = 0;

  /** @param maxRemainingLength largest remaining length (variable header + payload) allowed */
  constructor(private readonly maxRemainingLength: number) {}

  /** Scans the next bytes of the stream; returns why the stream must be closed, or undefined. */
  check(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return 'malformed remaining length';
        continue;
      }
      if (this.length > this.maxRemainingLength) {
        return `packet of ${this.length} bytes exceeds ${this.maxRemainingLength}`;
      }
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return undefined;
  }
}

/** Packets smaller than this are joined into one buffer before they are written. */
const JOIN_BELOW = 64 * 1024;

/**
 * Wraps a connection (TCP, TLS or WebSocket stream) so that Aedes reads it
 * through a PacketSizeGuard. On a violation the connection is destroyed and
 * `onViolation` told why; nothing of the oversized packet reaches Aedes.
 */
export function guardConnection(
  inner: Duplex,
  maxRemainingLength: number,
  onViolation: (reason: string) => void,
): Duplex {
  const guard = new PacketSizeGuard(maxRemainingLength);
  const outer = new Duplex({
    read() {
      inner.resume();
    },
    write(chunk: Buffer, encoding, callback) {
      if (inner.write(chunk, encoding)) callback();
      else inner.once('drain', () => callback());
    },
    // Aedes writes a packet as several chunks inside a cork (mqtt-packet). Small ones are joined, one
    // write; with a large payload (a photo page) they are handed on corked, so the transport sends
    // them in one writev without a copy of the payload (issue 20: 1.4 ms a MB in Buffer.concat).
    writev(chunks, callback) {
      const buffers = chunks.map((c) => c.chunk as Buffer);
      const bytes = buffers.reduce((n, b) => n + b.length, 0);
      let flowing: boolean;
      if (buffers.length === 1 || bytes < JOIN_BELOW) flowing = inner.write(Buffer.concat(buffers, bytes));
      else {
        inner.cork();
        flowing = buffers.map((b) => inner.write(b)).every(Boolean);
        inner.uncork();
      }
      if (flowing) callback();
      else inner.once('drain', () => callback());
    },
    final(callback) {
      inner.end(callback);
    },
    destroy(err, callback) {
      inner.destroy();
      callback(err);
    },
  });

  inner.on('data', (chunk: Buffer) => {
    if (outer.destroyed) return;
    const violation = guard.check(chunk);
    if (violation !== undefined) {
      onViolation(violation);
      inner.destroy();
      outer.destroy();
      return;
    }
    if (!outer.push(chunk)) inner.pause();
  });
  let ended = false;
  inner.on('end', () => {
    ended = true;
    outer.push(null);
  });
  inner.on('error', (err) => outer.destroy(err));
  // After a clean end the reader still drains what is buffered, then closes itself.
  inner.on('close', () => {
    if (!ended && !outer.destroyed) outer.destroy();
  });
  return outer;
}
