import { describe, expect, it } from 'vitest';
import { isHalError } from '../hal/index.js';
import { createDuplexPair, SimPipe } from './sim-pipe.js';
import type { SimStreamEnd } from './sim-stream-end.js';
import { VirtualClock } from './virtual-clock.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Collects what an end receives and how it closed. */
function listen(end: SimStreamEnd) {
  const got: number[] = [];
  const closes: Array<Error | undefined> = [];
  end.onData((b) => got.push(...b));
  end.onClose((e) => closes.push(e));
  return { got, closes };
}

describe('SimPipe in real time (no clock)', () => {
  it('delivers writes in order in both directions on a microtask', async () => {
    const [a, b] = createDuplexPair();
    const atB = listen(b);
    const atA = listen(a);
    const writes = [a.write(bytes(1, 2)), a.write(bytes(3)), b.write(bytes(9))];
    expect(atB.got).toEqual([]);
    await Promise.all(writes);
    await flush();
    expect(atB.got).toEqual([1, 2, 3]);
    expect(atA.got).toEqual([9]);
  });

  it('keeps data that arrives before the first listener', async () => {
    const [a, b] = createDuplexPair();
    await a.write(bytes(7, 7));
    await flush();
    const atB = listen(b);
    await flush();
    expect(atB.got).toEqual([7, 7]);
  });

  it('copies written bytes: mutating after write changes nothing delivered', async () => {
    const [a, b] = createDuplexPair();
    const atB = listen(b);
    const chunk = bytes(1, 2, 3);
    await a.write(chunk);
    chunk.fill(0);
    await flush();
    expect(atB.got).toEqual([1, 2, 3]);
  });

  it("close() is orderly: the peer gets pending data, then closes without error; writes reject 'link-down'", async () => {
    const [a, b] = createDuplexPair();
    const atA = listen(a);
    const atB = listen(b);
    await a.write(bytes(5));
    a.close();
    a.close();
    await flush();
    expect(atB.got).toEqual([5]);
    expect(atB.closes).toEqual([undefined]);
    expect(atA.closes).toEqual([undefined]);
    await expect(b.write(bytes(1))).rejects.toMatchObject({ kind: 'link-down' });
    await expect(a.write(bytes(1))).rejects.toMatchObject({ kind: 'link-down' });
  });

  it("cut() closes both ends once with 'link-down' and loses bytes in flight", async () => {
    const pair = createDuplexPair();
    const [a, b] = pair;
    const pipe = pair.pipe;
    const atA = listen(a);
    const atB = listen(b);
    const write = a.write(bytes(1));
    pipe.cut();
    pipe.cut();
    await write;
    await flush();
    expect(atB.got).toEqual([]);
    expect(atA.closes).toHaveLength(1);
    expect(atB.closes).toHaveLength(1);
    expect(isHalError(atB.closes[0], 'link-down')).toBe(true);
  });

  it('dropAfterBytes(n): the n bytes that fit arrive, then both ends break', async () => {
    const pair = createDuplexPair();
    const [a, b] = pair;
    const atB = listen(b);
    const atA = listen(a);
    pair.pipe.dropAfterBytes(5);
    await a.write(bytes(1, 2, 3));
    await b.write(bytes(10));
    await expect(a.write(bytes(4, 5, 6))).rejects.toMatchObject({ kind: 'link-down' });
    await flush();
    expect(atB.got).toEqual([1, 2, 3, 4]);
    expect(atA.got).toEqual([10]);
    expect(isHalError(atB.closes[0], 'link-down')).toBe(true);
    expect(isHalError(atA.closes[0], 'link-down')).toBe(true);
    expect(pair.pipe.stats()).toEqual({ bytesUp: 4, bytesDown: 1, messagesUp: 2, messagesDown: 1 });
  });

  it('dropAtMessage(n): the n-th write from either end breaks the pipe and is not delivered', async () => {
    const pair = createDuplexPair();
    const [a, b] = pair;
    const atB = listen(b);
    pair.pipe.dropAtMessage(3);
    await a.write(bytes(1));
    await b.write(bytes(2));
    await expect(a.write(bytes(3))).rejects.toMatchObject({ kind: 'link-down' });
    await flush();
    expect(atB.got).toEqual([1]);
    expect(isHalError(atB.closes[0], 'link-down')).toBe(true);
  });

  it("a late onClose listener still hears the close; latency without a clock is 'not-supported'", async () => {
    const [a] = createDuplexPair();
    a.close();
    const late: Array<Error | undefined> = [];
    a.onClose((e) => late.push(e));
    await flush();
    expect(late).toEqual([undefined]);
    expect(() => new SimPipe({ latencyMs: 5 })).toThrow(expect.objectContaining({ kind: 'not-supported' }));
  });

  it('records traffic both ways when asked; reset() clears counters and faults', async () => {
    const clock = new VirtualClock({ start: 0 });
    const pipe = new SimPipe({ clock, record: true });
    listen(pipe.b);
    await pipe.a.write(bytes(0xaa));
    await clock.advance(3);
    await pipe.b.write(bytes(0xbb, 0xcc));
    expect(pipe.traffic()).toEqual([
      { direction: 'up', bytes: bytes(0xaa), at: 0 },
      { direction: 'down', bytes: bytes(0xbb, 0xcc), at: 3 },
    ]);
    pipe.dropAtMessage(1);
    pipe.reset();
    await pipe.a.write(bytes(1));
    expect(pipe.stats()).toEqual({ bytesUp: 1, bytesDown: 0, messagesUp: 1, messagesDown: 0 });
    expect(pipe.traffic()).toHaveLength(1);
  });
});

describe('SimPipe on a virtual clock', () => {
  it('delays delivery by the latency and preserves order across latency changes', async () => {
    const clock = new VirtualClock({ start: 0 });
    const pair = createDuplexPair({ clock, latencyMs: 100 });
    const [a, b] = pair;
    const arrivals: Array<[number, number]> = [];
    b.onData((chunk) => arrivals.push([chunk[0] ?? -1, clock.now()]));
    await a.write(bytes(1));
    await clock.advance(50);
    pair.pipe.setLatency(10);
    await a.write(bytes(2));
    pair.pipe.setLatency(0);
    await a.write(bytes(3));
    await clock.advance(49);
    expect(arrivals).toEqual([]);
    await clock.advance(1);
    expect(arrivals).toEqual([
      [1, 100],
      [2, 100],
      [3, 100],
    ]);
  });

  it('with zero latency delivers without the clock having to move', async () => {
    const clock = new VirtualClock({ start: 0 });
    const [a, b] = createDuplexPair({ clock });
    const atB = listen(b);
    await a.write(bytes(4));
    await flush();
    expect(atB.got).toEqual([4]);
  });

  it('a cut loses what is still in flight', async () => {
    const clock = new VirtualClock({ start: 0 });
    const pair = createDuplexPair({ clock, latencyMs: 20 });
    const atB = listen(pair[1]);
    await pair[0].write(bytes(1));
    await clock.advance(10);
    pair.pipe.cut();
    await clock.advance(100);
    expect(atB.got).toEqual([]);
    expect(atB.closes).toHaveLength(1);
  });
});
