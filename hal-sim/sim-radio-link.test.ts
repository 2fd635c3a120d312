import { describe, expect, it } from 'vitest';
import { type ByteStream, isHalError, type LinkState } from '../hal/index.js';
import { createDuplexPair, type SimPipe } from './sim-pipe.js';
import { SimRadioLink } from './sim-radio-link.js';
import type { SimStreamEnd } from './sim-stream-end.js';
import { VirtualClock } from './virtual-clock.js';

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** A link whose server side is an echo of every chunk it receives. */
function echoLink(extra: Partial<ConstructorParameters<typeof SimRadioLink>[0]> = {}) {
  const pipes: SimPipe[] = [];
  const link = new SimRadioLink({
    connect: () => {
      const pair = createDuplexPair();
      pipes.push(pair.pipe);
      const server: SimStreamEnd = pair[1];
      server.onData((bytes) => void server.write(bytes).catch(() => {}));
      return pair[0];
    },
    ...extra,
  });
  return { link, pipes };
}

function collect(stream: ByteStream) {
  const got: number[] = [];
  const closes: Array<Error | undefined> = [];
  stream.onData((b) => got.push(...b));
  stream.onClose((e) => closes.push(e));
  return { got, closes };
}

describe('SimRadioLink', () => {
  it('opens a stream to the server given by connect and counts bytes both ways', async () => {
    const { link } = echoLink();
    const stream = await link.open();
    const seen = collect(stream);
    await stream.write(new Uint8Array([1, 2, 3]));
    await flush();
    expect(seen.got).toEqual([1, 2, 3]);
    expect(link.stats()).toEqual({ bytesUp: 3, bytesDown: 3, opens: 1, failedOpens: 0, openStreams: 1 });
    stream.close();
    expect(link.stats().openStreams).toBe(0);
  });

  it("taking the link down breaks open streams with 'link-down' and open() rejects 'link-down'", async () => {
    const { link } = echoLink();
    const stream = await link.open();
    const seen = collect(stream);
    link.setUp(false);
    await flush();
    expect(seen.closes).toHaveLength(1);
    expect(isHalError(seen.closes[0], 'link-down')).toBe(true);
    await expect(stream.write(new Uint8Array([1]))).rejects.toMatchObject({ kind: 'link-down' });
    await expect(link.open()).rejects.toMatchObject({ kind: 'link-down' });
    link.setUp(true);
    expect((await link.open()) !== undefined).toBe(true);
    expect(link.stats()).toMatchObject({ opens: 2, failedOpens: 1 });
  });

  it('reports state changes (up, signal, metered) once per actual change', () => {
    const { link } = echoLink({ signalDbm: -70 });
    const states: LinkState[] = [];
    link.onState((s) => states.push(s));
    link.setMetered(true);
    link.setMetered(true);
    link.setSignal(-95);
    link.setSignal(undefined);
    link.setUp(false);
    expect(states).toEqual([
      { up: true, metered: true, signalDbm: -70 },
      { up: true, metered: true, signalDbm: -95 },
      { up: true, metered: true },
      { up: false, metered: true },
    ]);
    expect(link.state()).toEqual({ up: false, metered: true });
  });

  it('a break of the underlying pipe reaches the stream user as its error', async () => {
    const { link, pipes } = echoLink();
    const stream = await link.open();
    const seen = collect(stream);
    pipes[0]?.cut();
    await flush();
    expect(isHalError(seen.closes[0], 'link-down')).toBe(true);
    expect(link.stats().openStreams).toBe(0);
  });

  it("failNextOpen injects one 'timeout'; a throwing connect becomes 'link-down'", async () => {
    const { link } = echoLink();
    link.failNextOpen();
    await expect(link.open()).rejects.toMatchObject({ kind: 'timeout' });
    await link.open();
    const broken = new SimRadioLink({
      connect: () => {
        throw new Error('ECONNREFUSED');
      },
    });
    await expect(broken.open()).rejects.toMatchObject({ kind: 'link-down' });
  });

  it('open() takes openDelayMs on the clock; the link may go down meanwhile', async () => {
    const clock = new VirtualClock({ start: 0 });
    const { link } = echoLink({ clock, openDelayMs: 500 });
    const opening = link.open();
    const outcome = opening.then(
      () => 'open',
      (e: unknown) => (isHalError(e) ? e.kind : 'other'),
    );
    await clock.advance(200);
    link.setUp(false);
    await clock.advance(300);
    expect(await outcome).toBe('link-down');
  });

  it('reset() closes streams, restores the initial state and zeroes counters', async () => {
    const { link } = echoLink({ metered: true });
    const stream = await link.open();
    const seen = collect(stream);
    link.setUp(false);
    link.reset();
    await flush();
    expect(seen.closes).toHaveLength(1);
    expect(link.state()).toEqual({ up: true, metered: true });
    expect(link.stats()).toEqual({ bytesUp: 0, bytesDown: 0, opens: 0, failedOpens: 0, openStreams: 0 });
  });
});
