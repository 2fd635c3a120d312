import { ProtocolError } from './codec.js';

/**
 * The payload around a message (issue 20: cellular data costs the user).
 * A message is CBOR whose first byte is a map head (0xa0–0xbf); a payload may
 * instead start with one of these bytes, which no message can:
 *
 *   00 ‖ deflate-raw(CBOR)   compressed (RFC 1951, CompressionStream: portable)
 *   01 ‖ CBOR                plain, and its sender takes compressed payloads back
 *
 * Negotiated per session: a terminal sends every request with 00 or 01, so
 * the server learns from the first that this connection reads compressed
 * replies; a payload of bare CBOR (an older terminal) gets bare CBOR back. A
 * message is compressed only above `COMPRESS_ABOVE` bytes and only when that
 * saves at least an eighth: small requests and already-compressed bodies
 * (photos) go plain; a message above 16 KiB is judged by 4 KiB from its middle
 * first, so a page of photos costs no deflate at all. Inflating stops at the receiver's message limit, so a
 * small payload cannot expand past what a plain one may be.
 */
export const ENVELOPE_DEFLATE = 0x00;
export const ENVELOPE_PLAIN = 0x01;

/** Below this a message goes plain: compression would save little and cost a round through zlib. */
export const COMPRESS_ABOVE = 1024;

export interface Unwrapped {
  /** The message's CBOR. */
  cbor: Uint8Array;
  /** It came compressed. */
  compressed: boolean;
  /** Its sender reads compressed payloads (it used an envelope). */
  acceptsCompressed: boolean;
}

/**
 * Raw deflate (RFC 1951) both ways. The default, `streamDeflate`, is the
 * WHATWG CompressionStream, in every runtime core/ runs in; a host may give a
 * faster one of its own (broker/node-deflate.ts: zlib without a stream per
 * message). Any codec's output inflates with any other's.
 */
export interface DeflateCodec {
  deflate(bytes: Uint8Array): Promise<Uint8Array>;
  /** At most `limit` bytes out, or ProtocolError 'too-large'; bytes that do not inflate reject. */
  inflate(bytes: Uint8Array, limit: number): Promise<Uint8Array>;
}

export const streamDeflate: DeflateCodec = {
  deflate: (bytes) => pipe(bytes, new CompressionStream('deflate-raw'), Number.POSITIVE_INFINITY),
  inflate: (bytes, limit) => pipe(bytes, new DecompressionStream('deflate-raw'), limit),
};

/** Inflating past the receiver's message limit: refused as a plain payload that large would be. */
export function inflatesPast(limit: number): ProtocolError {
  return new ProtocolError('too-large', `compressed payload inflates past ${limit} bytes`, null, 'bytes');
}

/** The payload for `cbor`: compressed when `compress` and worth it, else plain (with the envelope byte when `envelope`). */
export async function wrap(
  cbor: Uint8Array,
  options: { compress: boolean; envelope: boolean; codec?: DeflateCodec },
): Promise<Uint8Array> {
  if (options.compress && cbor.length > COMPRESS_ABOVE && worthTrying(cbor)) {
    const deflated = await (options.codec ?? streamDeflate).deflate(cbor);
    if (deflated.length + 1 <= cbor.length - cbor.length / 8) return prefixed(ENVELOPE_DEFLATE, deflated);
  }
  return options.envelope ? prefixed(ENVELOPE_PLAIN, cbor) : cbor;
}

/** Messages this large are sampled before being deflated whole. */
const SAMPLE_ABOVE = 16 * 1024;
const SAMPLE_BYTES = 4096;

/**
 * Whether deflating all of `cbor` can pay: a large message is judged by 4 KiB
 * from its middle, where the bulk of a batch or a page is (a part or a
 * substance is nearly all body). Photos and other compressed media do not
 * shrink, and deflating a 256 KiB page of them only to send it plain would
 * cost more than the bytes it could save. The judgement is made without
 * zlib (issue 20: a deflate stream set up per message cost ~0.5 ms, more
 * than a 64 KiB chunk of a photo takes to send): deflate saves an eighth
 * only through repeats (LZ77) or a skewed byte distribution (Huffman), and
 * the sample is measured for both.
 */
function worthTrying(cbor: Uint8Array): boolean {
  if (cbor.length <= SAMPLE_ABOVE) return true;
  const from = Math.floor((cbor.length - SAMPLE_BYTES) / 2);
  const sample = cbor.subarray(from, from + SAMPLE_BYTES);
  return repeatedShare(sample) >= 1 / 8 || entropyBits(sample) <= 7;
}

/** Minimum match deflate codes (RFC 1951 §3.2.5: lengths 3…258); 4 keeps chance matches of noise out. */
const MATCH_BYTES = 4;

/**
 * The share of `sample`'s bytes that lie in a run of at least 4 bytes seen
 * earlier in it (the last place each 4 bytes were seen, as deflate's hash
 * chains find them first): near 0 for noise, most of it for text or
 * templated records.
 */
function repeatedShare(sample: Uint8Array): number {
  const last = new Int32Array(1 << 12).fill(-1);
  let covered = 0;
  let i = 0;
  while (i + MATCH_BYTES <= sample.length) {
    const word =
      ((sample[i] as number) << 24) |
      ((sample[i + 1] as number) << 16) |
      ((sample[i + 2] as number) << 8) |
      (sample[i + 3] as number);
    const slot = Math.imul(word, 0x9e3779b1) >>> 20;
    const seen = last[slot] as number;
    last[slot] = i;
    let run = 0;
    if (seen >= 0) while (i + run < sample.length && sample[seen + run] === sample[i + run]) run++;
    if (run >= MATCH_BYTES) {
      covered += run;
      i += run;
    } else i++;
  }
  return covered / sample.length;
}

/** Order-0 entropy of `sample`, bits per byte: what Huffman coding alone could get it down to. */
function entropyBits(sample: Uint8Array): number {
  const counts = new Uint32Array(256);
  for (const byte of sample) counts[byte] = (counts[byte] as number) + 1;
  let bits = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / sample.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** The message in a payload; a compressed one inflated to at most `maxBytes` ('too-large' past it, 'malformed' if not deflate). */
export async function unwrap(
  payload: Uint8Array,
  maxBytes: number,
  codec: DeflateCodec = streamDeflate,
): Promise<Unwrapped> {
  const first = payload[0];
  if (first === ENVELOPE_PLAIN)
    return { cbor: payload.subarray(1), compressed: false, acceptsCompressed: true };
  if (first !== ENVELOPE_DEFLATE) return { cbor: payload, compressed: false, acceptsCompressed: false };
  let cbor: Uint8Array;
  try {
    cbor = await codec.inflate(payload.subarray(1), maxBytes);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('malformed', `compressed payload does not inflate: ${(e as Error).message}`);
  }
  return { cbor, compressed: true, acceptsCompressed: true };
}

function prefixed(byte: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = byte;
  out.set(body, 1);
  return out;
}

/** Runs `input` through a (de)compression stream, refusing output past `limit` bytes as soon as it passes. */
async function pipe(
  input: Uint8Array,
  transform: CompressionStream | DecompressionStream,
  limit: number,
): Promise<Uint8Array> {
  const writer = transform.writable.getWriter();
  const written = writer
    .write(input as Uint8Array<ArrayBuffer>)
    .then(() => writer.close())
    .catch(() => undefined);
  const reader = transform.readable.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > limit) {
        await reader.cancel().catch(() => undefined);
        throw inflatesPast(limit);
      }
      chunks.push(value);
    }
  } finally {
    await written;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
