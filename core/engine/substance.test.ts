import { describe, expect, it } from 'vitest';
import { SimNvStore, VirtualClock } from '../../hal-sim/index.js';
import { photoBytes } from '../../test/support/photo.js';
import { SyncError } from '../errors.js';
import type { ServerSession } from '../net/server-session.js';
import type { FetchRequest, Reply } from '../protocol/index.js';
import { PartialFetches } from '../store/partial-fetches.js';
import { RecordStore } from '../store/record-store.js';
import { Budget } from './budget.js';
import { type FetchContext, fetchSubstance } from './substance.js';

const SUBSCRIBER = '001010000000102';
const SEQ = 7;

/** Bytes that deflate cannot shrink, the same every run. */

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * The server's side of fetch requests ([0094]), answered a turn of the event
 * loop later, as a link would: counts what it served and the most requests
 * it held at once; `cutAt(n)` breaks the link at the n-th request (1-based),
 * failing it and every request after it, as a link drop fails all pending.
 */
class FakeServer {
  served = 0;
  requests: FetchRequest[] = [];
  mostInFlight = 0;
  /** Answer with at most this many bytes (a server whose message limit is smaller). */
  maxAnswer = Number.POSITIVE_INFINITY;
  private readonly pending = new Set<{ failed: boolean }>();
  private cut: number | undefined;
  private down = false;

  constructor(readonly body: Uint8Array) {}

  cutAt(n: number): void {
    this.cut = this.requests.length + n;
  }

  heal(): void {
    this.cut = undefined;
    this.down = false;
  }

  session(): ServerSession {
    return { request: (message: Omit<FetchRequest, 'req'>) => this.request(message) } as never;
  }

  private async request(message: Omit<FetchRequest, 'req'>): Promise<Reply> {
    const request = { ...message, req: this.requests.length + 1 } as FetchRequest;
    this.requests.push(request);
    const call = { failed: this.down };
    if (this.cut !== undefined && this.requests.length >= this.cut && !this.down) {
      // The drop fails this request and every one still pending.
      this.down = true;
      for (const other of this.pending) other.failed = true;
      call.failed = true;
    }
    this.pending.add(call);
    this.mostInFlight = Math.max(this.mostInFlight, this.pending.size);
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.pending.delete(call);
    if (call.failed) throw new SyncError('link-down', 'connection to the server closed');
    const length = Math.min(request.length, this.maxAnswer);
    const bytes = this.body.slice(request.offset, request.offset + length);
    this.served += bytes.length;
    return {
      type: 'substance',
      req: request.req,
      seq: SEQ,
      offset: request.offset,
      size: this.body.length,
      bytes,
    };
  }
}

async function terminalWithStub(body: Uint8Array, hash?: Uint8Array) {
  const nv = new SimNvStore();
  const store = new RecordStore(nv, new VirtualClock());
  const stub = { size: body.length, hash: hash ?? (await sha256(body)) };
  await store.applyDownload(
    [{ category: 'archive', id: 'photo', seq: SEQ, editedAt: 1, body: new Uint8Array(0), stub }],
    SEQ,
  );
  return { nv, store, partial: new PartialFetches(nv) };
}

function context(
  t: Awaited<ReturnType<typeof terminalWithStub>>,
  server: FakeServer,
  more: Partial<FetchContext> = {},
): FetchContext {
  return { session: server.session(), ...t, subscriberId: SUBSCRIBER, chunkBytes: 1000, ...more };
}

const kept = async (nv: SimNvStore) => (await nv.scan('q/')).reduce((n, e) => n + e.value.length, 0);

describe('[0094] fetching a substance in chunks (issue 20: a window in flight, NV committed less often)', () => {
  it('keeps a window of chunks in flight and never more; the whole arrives checked against its hash', async () => {
    const body = photoBytes(20_500);
    const t = await terminalWithStub(body);
    const server = new FakeServer(body);
    const record = await fetchSubstance(context(t, server, { window: 4 }), 'archive', 'photo');
    expect(record.stub).toBeUndefined();
    expect(record.body).toEqual(body);
    expect(server.mostInFlight).toBe(4);
    expect(server.requests.map((r) => r.offset)).toEqual(Array.from({ length: 21 }, (_, i) => i * 1000));
    expect(server.served).toBe(body.length);
    // It fit in memory: nothing went through the partial store.
    expect(await t.nv.scan('p/')).toEqual([]);
    expect(await t.nv.scan('q/')).toEqual([]);
  });

  it('commits received chunks to NV together, once `commitBytes` are waiting, not once per chunk', async () => {
    const body = photoBytes(10_000);
    const t = await terminalWithStub(body);
    const server = new FakeServer(body);
    const before = t.nv.stats().commits;
    await fetchSubstance(context(t, server, { commitBytes: 4000 }), 'archive', 'photo');
    // Two commits of 4 chunks each, then the record installed (with the partial fetch forgotten).
    expect(t.nv.stats().commits - before).toBe(3);
  });

  it('a link cut at any chunk keeps every chunk that came before it, and the next fetch resumes there, fetching only what was lost', async () => {
    const body = photoBytes(12_345);
    const chunks = Math.ceil(body.length / 1000);
    for (let cut = 1; cut <= chunks; cut++) {
      const t = await terminalWithStub(body);
      const server = new FakeServer(body);
      server.cutAt(cut);
      await expect(
        fetchSubstance(context(t, server, { window: 3 }), 'archive', 'photo'),
      ).rejects.toMatchObject({
        kind: 'link-down',
      });
      // The chunks answered before the cut are in NV, with the progress that counts them.
      expect(await kept(t.nv)).toBe(server.served);
      expect(server.served).toBeGreaterThanOrEqual((cut - 3) * 1000);
      expect((await t.store.get('archive', 'photo'))?.stub).toBeDefined();

      server.heal();
      const record = await fetchSubstance(context(t, server, { window: 3 }), 'archive', 'photo');
      expect(record.body).toEqual(body);
      // Served once each: nothing answered before the cut is asked for again.
      expect(server.served).toBe(body.length);
      expect(await t.nv.scan('p/')).toEqual([]);
      expect(await t.nv.scan('q/')).toEqual([]);
    }
  });

  it('[0085]: under a download limit the window never asks past the allowance; what came is kept for the next sync', async () => {
    const body = photoBytes(10_000);
    const t = await terminalWithStub(body);
    const server = new FakeServer(body);
    const budget = new Budget({ downBytes: 3500 }, new VirtualClock());
    const record = await fetchSubstance(context(t, server, { window: 8, budget }), 'archive', 'photo');
    expect(record.stub).toBeDefined();
    expect(budget.down).toBe(3500);
    expect(server.served).toBe(3500);
    expect(await kept(t.nv)).toBe(3500);
    const rest = await fetchSubstance(context(t, server, { window: 8 }), 'archive', 'photo');
    expect(rest.body).toEqual(body);
    expect(server.served).toBe(body.length);
  });

  it('a server answering less than asked (a smaller message limit) gets asked for the rest, and no byte is skipped', async () => {
    const body = photoBytes(5000);
    const t = await terminalWithStub(body);
    const server = new FakeServer(body);
    server.maxAnswer = 700;
    const record = await fetchSubstance(context(t, server), 'archive', 'photo');
    expect(record.body).toEqual(body);
  });

  it('a substance that does not match its hash is refused and nothing of it is kept', async () => {
    const body = photoBytes(5000);
    const t = await terminalWithStub(body, new Uint8Array(32));
    const server = new FakeServer(body);
    await expect(
      fetchSubstance(context(t, server, { commitBytes: 2000 }), 'archive', 'photo'),
    ).rejects.toMatchObject({ kind: 'protocol' });
    expect(await t.nv.scan('q/')).toEqual([]);
    expect(await t.nv.scan('p/')).toEqual([]);
    expect((await t.store.get('archive', 'photo'))?.stub).toBeDefined();
  });
});
