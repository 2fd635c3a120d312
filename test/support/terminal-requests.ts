import { decodeRequest } from '../../core/index.js';

export interface SentRequest {
  /** The request's type, or '(compressed)' for a deflated payload. */
  type: string;
  /** The PUBLISH payload's bytes (envelope byte included). */
  payloadBytes: number;
}

/**
 * Reads what a terminal writes to its link as MQTT packets (3.1.1 §2.2: a
 * type byte, the remaining length in 7-bit groups; §3.3 PUBLISH at QoS 0:
 * topic, then payload), however the writes cut or join them, and tells the
 * requests the PUBLISHes carry. Small requests go plain, behind the
 * envelope byte 01 (core/protocol/envelope.ts).
 */
export class TerminalRequests {
  private buffered = new Uint8Array(0);

  /** The requests completed by these bytes, in order. */
  push(bytes: Uint8Array): SentRequest[] {
    const all = new Uint8Array(this.buffered.length + bytes.length);
    all.set(this.buffered);
    all.set(bytes, this.buffered.length);
    const found: SentRequest[] = [];
    let at = 0;
    for (;;) {
      let length = 0;
      let shift = 0;
      let i = at + 1;
      while (i < all.length && ((all[i] ?? 0) & 0x80) !== 0)
        length += ((all[i++] ?? 0) & 0x7f) << (7 * shift++);
      if (i >= all.length) break;
      length += ((all[i++] ?? 0) & 0x7f) << (7 * shift);
      if (i + length > all.length) break;
      if ((all[at] ?? 0) >> 4 === 3) {
        const topicLength = ((all[i] ?? 0) << 8) | (all[i + 1] ?? 0);
        const payload = all.subarray(i + 2 + topicLength, i + length);
        const type = payload[0] === 0x01 ? decodeRequest(payload.subarray(1)).type : '(compressed)';
        found.push({ type, payloadBytes: payload.length });
      }
      at = i + length;
    }
    this.buffered = all.slice(at);
    return found;
  }
}
