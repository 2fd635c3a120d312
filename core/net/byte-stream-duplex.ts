import { Duplex } from 'readable-stream';
import type { ByteStream } from '../../hal/index.js';
import { concatBytes } from '../../uicc/index.js';

export interface TrafficCounter {
  sent: number;
  received: number;
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
 * send on a TCP link) instead of one per chunk, each awaited in turn.
 */
export function byteStreamDuplex(stream: ByteStream, traffic: TrafficCounter): Duplex {
  const send = (bytes: Uint8Array, callback: (error?: Error | null) => void) => {
    traffic.sent += bytes.length;
    stream.write(bytes).then(() => callback(), callback);
  };
  const duplex = new Duplex({
    write(chunk: Uint8Array, _encoding: string, callback: (error?: Error | null) => void) {
      send(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), callback);
    },
    writev(chunks: ArrayLike<{ chunk: Uint8Array }>, callback: (error?: Error | null) => void) {
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
