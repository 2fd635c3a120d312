import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ByteStream, isHalError } from '../../hal/index.js';
import { concat, delay, waitFor } from './wait.js';

export interface ByteStreamPairUnderTest {
  /** The terminal's end. */
  a: ByteStream;
  /** The server's end, connected to `a`. */
  b: ByteStream;
  /** Lets time pass for streams on a virtual clock (e.g. advance by the latency). */
  step?: () => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

interface Listened {
  chunks: Uint8Array[];
  closes: Array<Error | undefined>;
}

function listen(stream: ByteStream): Listened {
  const heard: Listened = { chunks: [], closes: [] };
  stream.onData((b) => heard.chunks.push(b.slice()));
  stream.onClose((e) => heard.closes.push(e));
  return heard;
}

/**
 * The shared ByteStream contract (hal/radio-link.ts): order, no duplication,
 * close semantics. Implementations may split or merge writes, so data is
 * compared as one concatenated sequence.
 */
export function describeByteStreamContract(
  name: string,
  makePair: () => Promise<ByteStreamPairUnderTest>,
): void {
  describe(`ByteStream contract: ${name}`, () => {
    let pair: ByteStreamPairUnderTest;
    let atA: Listened;
    let atB: Listened;
    const until = (condition: () => boolean, what: string) =>
      waitFor(condition, { what, ...(pair.step ? { step: pair.step } : {}) });
    const received = (l: Listened) => concat(l.chunks).length;

    beforeEach(async () => {
      pair = await makePair();
      atA = listen(pair.a);
      atB = listen(pair.b);
    });

    afterEach(async () => {
      pair.a.close();
      pair.b.close();
      await pair.cleanup?.();
    });

    it('delivers bytes in order, without duplication, in both directions', async () => {
      const up = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
      for (let i = 0; i < 300; i += 30) await pair.a.write(up.subarray(i, i + 30));
      await pair.b.write(Uint8Array.of(9, 8, 7));
      await until(() => received(atB) >= 300 && received(atA) >= 3, 'both directions');
      expect(concat(atB.chunks)).toEqual(up);
      expect(concat(atA.chunks)).toEqual(Uint8Array.of(9, 8, 7));
    });

    it('carries a 64 KiB write intact', async () => {
      const big = Uint8Array.from({ length: 65_536 }, (_, i) => (i * 31) & 0xff);
      await pair.a.write(big);
      await until(() => received(atB) >= big.length, '64 KiB');
      expect(concat(atB.chunks)).toEqual(big);
    });

    it('written bytes are taken at write time: later mutation changes nothing', async () => {
      const chunk = Uint8Array.of(1, 2, 3);
      const writing = pair.a.write(chunk);
      chunk.fill(0);
      await writing;
      await until(() => received(atB) >= 3, 'data');
      expect(concat(atB.chunks)).toEqual(Uint8Array.of(1, 2, 3));
    });

    it('close() is idempotent; each end hears close exactly once; the peer gets data written before it', async () => {
      await pair.a.write(Uint8Array.of(42));
      pair.a.close();
      pair.a.close();
      await until(() => atA.closes.length > 0 && atB.closes.length > 0, 'both closes');
      if (pair.step) await pair.step();
      expect(atA.closes).toHaveLength(1);
      expect(atB.closes).toHaveLength(1);
      expect(concat(atB.chunks)).toEqual(Uint8Array.of(42));
    });

    it("after close, write rejects 'link-down' and no more data is delivered", async () => {
      pair.a.close();
      await until(() => atA.closes.length > 0, 'close');
      const error = await pair.a.write(Uint8Array.of(1)).catch((e: unknown) => e);
      expect(isHalError(error, 'link-down')).toBe(true);
      const before = atA.chunks.length;
      await pair.b.write(Uint8Array.of(2)).catch(() => {});
      if (pair.step) await pair.step();
      expect(atA.chunks).toHaveLength(before);
    });

    it('writes issued without awaiting each other leave in call order, and every one resolves', async () => {
      const burst = Array.from({ length: 40 }, (_, i) => new Uint8Array(1500).fill(i));
      await Promise.all(burst.map((chunk) => pair.a.write(chunk)));
      await until(() => received(atB) >= 40 * 1500, 'the burst');
      expect(concat(atB.chunks)).toEqual(concat(burst));
    });

    it("a write pending at close settles: resolved if handed on, else 'link-down'", async () => {
      const writing = pair.a.write(new Uint8Array(256 * 1024).fill(7));
      pair.a.close();
      const outcome = await Promise.race([
        writing.then(
          () => 'resolved',
          (e: unknown) => (isHalError(e, 'link-down') ? 'link-down' : `other: ${String(e)}`),
        ),
        delay(5000).then(() => 'still pending after 5 s'),
      ]);
      expect(['resolved', 'link-down']).toContain(outcome);
    });

    it('a close listener added after the close still hears it, once', async () => {
      pair.a.close();
      await until(() => atA.closes.length > 0, 'close');
      const late: Array<Error | undefined> = [];
      pair.a.onClose((e) => late.push(e));
      await until(() => late.length > 0, 'the late listener');
      if (pair.step) await pair.step();
      expect(late).toEqual([undefined]);
    });

    it('an unsubscribed data listener hears nothing more', async () => {
      const extra: Uint8Array[] = [];
      const off = pair.b.onData((b) => extra.push(b));
      off();
      await pair.a.write(Uint8Array.of(5));
      await until(() => received(atB) >= 1, 'data');
      expect(extra).toEqual([]);
    });
  });
}
