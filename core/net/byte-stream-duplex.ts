import { Duplex } from 'readable-stream';
import type { ByteStream } from '../../hal/index.js';
import { concatBytes } from '../../uicc/index.js';

export interface TrafficCounter {
  sent: number;
  received: number;
}

/** A payload at least this large is written apart from its packet's head instead of joined to it. */
const SEND_APART = 64 * 1024;

function view(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The chunks a corked Writable hands `writev`, as one run of bytes. */
export function joinChunks(chunks: ArrayLike<{ chunk: Uint8Array }>): Uint8Array {
  if (chunks.length === 1) {
    const { chunk } = chunks[0] as { chunk: Uint8Array };
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  return concatBytes(...Array.from(chunks, (c) => c.chunk));
}

/**
 * Presents a HAL ByteStream as the stream mqtt.js expects. Counts bytes both
 * ways (what bench/wire-efficiency reports). Closing either side closes both.
 *
 * mqtt-packet writes one packet as several chunks (fixed header, topic,
 * packet id, payload) inside a cork; `writev` hands what the cork gathered
 * to the link as one write, so a packet costs one `ByteStream.write` (one
 * send on a TCP link) instead of one per chunk, each awaited in turn; a
 * payload of 64 KiB or more is written after the joined head, not copied
 * into it (two writes).
 */
export function byteStreamDuplex(stream: ByteStream, traffic: TrafficCounter): Duplex {
  const send = (bytes: Uint8Array, callback: (error?: Error | null) => void) => {
    traffic.sent += bytes.length;
    stream.write(bytes).then(() => callback(), callback);
  };
  const duplex = new Duplex({
    write(chunk: Uint8Array, _encoding: string, callback: (error?: Error | null) => void) {
      send(view(chunk), callback);
    },
    writev(chunks: ArrayLike<{ chunk: Uint8Array }>, callback: (error?: Error | null) => void) {
      const parts = Array.from(chunks, (c) => c.chunk);
      const last = parts.at(-1);
      // A large payload goes as it is, after its packet's head: one copy of it saved (issue 20).
      if (parts.length > 1 && last !== undefined && last.length >= SEND_APART) {
        const head = joinChunks(parts.slice(0, -1).map((chunk) => ({ chunk })));
        send(head, (error) => (error ? callback(error) : send(view(last), callback)));
        return;
      }
      send(joinChunks(chunks), callback);
    },
    read() {},
    final(callback: (error?: Error | null) => void) {
      stream.close();
      callback();
    },
    destroy(error: Error | null, callback: (error: Error | null) => void) {
      stream.close();
      callback(error);
    },
  });
  stream.onData((bytes) => {
    traffic.received += bytes.length;
    duplex.push(bytes);
  });
  stream.onClose((error) => {
    duplex.destroy(error);
  });
  return duplex;
}
