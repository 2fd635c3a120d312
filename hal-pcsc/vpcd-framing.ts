/**
 * vsmartcard's vpcd ↔ virtual card wire format: every message is a 2-byte
 * big-endian length and that many bytes. A 1-byte payload is a control
 * (below); anything longer is a command APDU, and the card's reply (the ATR,
 * or response data + SW1 SW2) is framed the same way. Controls other than
 * `atr` get no reply. An empty reply to `atr` means "no card".
 */
export const VPCD_CONTROL = {
  powerOff: 0,
  powerOn: 1,
  reset: 2,
  atr: 4,
} as const;

/** Largest payload a 2-byte length can carry. */
export const VPCD_MAX_PAYLOAD = 0xffff;

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > VPCD_MAX_PAYLOAD) throw new RangeError(`vpcd payload of ${payload.length} bytes`);
  const frame = new Uint8Array(2 + payload.length);
  frame[0] = payload.length >> 8;
  frame[1] = payload.length & 0xff;
  frame.set(payload, 2);
  return frame;
}

/** Splits a byte stream into whole frames; `rest` is an incomplete tail to prepend to the next chunk. */
export function decodeFrames(bytes: Uint8Array): { frames: Uint8Array[]; rest: Uint8Array } {
  const frames: Uint8Array[] = [];
  let offset = 0;
  while (bytes.length - offset >= 2) {
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
    if (bytes.length - offset - 2 < length) break;
    frames.push(bytes.slice(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return { frames, rest: bytes.slice(offset) };
}
