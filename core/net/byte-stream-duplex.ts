import { Duplex } from 'readable-stream';
import type { ByteStream } from '../../hal/index.js';

export interface TrafficCounter {
  sent: number;
  received: number;
}

/**
 * Presents a HAL ByteStream as the stream mqtt.js expects. Counts bytes both
 * ways (what bench/wire-efficiency reports). Closing either side closes both.
 */
export function byteStreamDuplex(stream: ByteStream, traffic: TrafficCounter): Duplex {
  const duplex = new Duplex({
    write(chunk: Uint8Array, _encoding: string, callback: (error?: Error | null) => void) {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      traffic.sent += bytes.length;
      stream.write(bytes).then(() => callback(), callback);
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
