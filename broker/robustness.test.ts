import { connect as connectTcp } from 'node:net';
import { encode } from 'cborg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { categoryCode, encodeRequest, upTopic } from '../core/protocol/index.js';
import type { SyncServer } from './server.js';
import {
  bytes,
  connectRaw,
  endClients,
  onlineTerminal,
  registerVia,
  startTestServer,
  stopTestServer,
  TestTerminal,
  within,
  X,
  Y,
} from './test-support.js';

const C = categoryCode('contacts');

describe('malformed, oversized and hostile input (DESIGN.md "Wire")', () => {
  let server: SyncServer;
  let a: TestTerminal;
  let bystander: TestTerminal;

  beforeEach(async () => {
    // Small limits so that the tests move little data: 8 KiB messages, 32 KiB packets.
    server = await startTestServer({ maxMessageBytes: 8 * 1024, maxPacketBytes: 32 * 1024 });
    a = await onlineTerminal(server, 'term-a', X);
    bystander = await onlineTerminal(server, 'term-b', Y);
  });
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  async function bystanderStillServed(): Promise<void> {
    const r = await bystander.request({
      type: 'upload',
      subscriber: Y,
      batch: Date.now() % 1e9,
      changes: [[C, 'ok', 0, 1, bytes(1)]],
    });
    expect(r.type).toBe('upload-ack');
  }

  it('answers garbage with a typed error, changes nothing, and keeps serving', async () => {
    const inputs: [Uint8Array, number | null][] = [
      [bytes(0xff, 0x00, 0x13), null],
      [new Uint8Array(0), null],
      [encode({ type: 'drop-tables', req: 41 }), 41],
      [encode({ type: 'upload', req: 42, subscriber: X, batch: 1, changes: [[9, 'x', 0, 0, null]] }), 42],
      [encode({ type: 'upload', req: 43, subscriber: X, batch: 1, changes: [], admin: true }), 43],
      [encode([1, 2, 3]), null],
    ];
    for (const [payload, req] of inputs) {
      const reply = a.waitReply(req);
      await a.publishRaw(payload);
      expect(await reply).toMatchObject({ type: 'error', code: 'malformed', req });
      a.replies.length = 0;
    }
    expect(await server.store.latestSeq(X)).toBe(0);
    const refused = (await server.admin.history(X)).filter((e) => e.outcome === 'refused');
    expect(refused).toHaveLength(inputs.length);
    expect(refused[0]?.reason).toMatch(/^malformed/);
    await bystanderStillServed();
    const ok = await a.request({ type: 'probe', subscriber: X, after: 0 });
    expect(ok.type).toBe('probe-result');
  });

  it('answers a payload over the protocol limit with too-large and keeps the connection', async () => {
    const big = encodeRequest({
      type: 'upload',
      req: 7,
      subscriber: X,
      batch: 1,
      changes: [[C, 'big', 0, 1, new Uint8Array(12 * 1024)]],
    });
    const reply = a.waitReply(null);
    await a.publishRaw(big);
    expect(await reply).toMatchObject({ type: 'error', code: 'too-large', req: null });
    expect(await server.store.latestSeq(X)).toBe(0);
    expect(a.client.connected).toBe(true);
    expect((await a.request({ type: 'probe', subscriber: X, after: 0 })).type).toBe('probe-result');
  });

  it('closes only the connection whose packet exceeds the transport limit', async () => {
    const closed = a.waitClosed();
    a.client.publish('ss/1/t/term-a/up', Buffer.alloc(64 * 1024), { qos: 0 });
    await closed;
    expect(await server.store.latestSeq(X)).toBe(0);
    await bystanderStillServed();
  });

  it('closes a raw socket as soon as a fixed header announces too much, before the body is sent', async () => {
    const socket = connectTcp(server.port ?? 0, '127.0.0.1');
    await within(new Promise((r) => socket.once('connect', r)), 'TCP connect');
    const closed = within(new Promise((r) => socket.once('close', r)), 'server closing the socket');
    socket.on('error', () => undefined);
    // CONNECT announcing 268 435 455 bytes.
    socket.write(Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0x7f));
    await closed;
    await bystanderStillServed();
  });

  it('refuses a batch whose acknowledgement would not fit in a message, applying none of it', async () => {
    const changes = Array.from(
      { length: 350 },
      (_, i) => [categoryCode('pim'), `p${i}`, 0, 1, null] as const,
    );
    const r = await a.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [[C, 'ok', 0, 1, bytes(1)], ...changes] as never,
    });
    expect(r).toMatchObject({
      type: 'error',
      code: 'too-large',
      message: expect.stringContaining('fewer changes'),
    });
    expect(await server.store.latestSeq(X)).toBe(0);
    const retry = await a.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [[C, 'ok', 0, 1, bytes(1)]],
    });
    expect(retry).toMatchObject({ type: 'upload-ack', seqs: [1] });
  });

  it('answers internal failures with an internal error and keeps the broker up', async () => {
    const errors: string[] = [];
    await endClients();
    await stopTestServer(server);
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (_: object, msg?: string) => errors.push(msg ?? ''),
    };
    server = await startTestServer({ logger });
    a = await onlineTerminal(server, 'term-a', X);
    await server.store.close();
    const r = await a.request({ type: 'probe', subscriber: X, after: 0 });
    expect(r).toMatchObject({ type: 'error', code: 'internal', req: 1 });
    expect(errors).toContainEqual(expect.stringMatching(/^refused t:term-a probe: internal: /));
  });

  it('ignores wills: a request left as a will is never served', async () => {
    const credential = await registerVia(server, 'term-w', X);
    const w = await connectRaw(server.port ?? 0, {
      username: 't:term-w',
      password: credential,
      will: { topic: upTopic('term-w'), payload: Buffer.from([0xff]), qos: 0, retain: false },
    });
    const gone = within(
      new Promise<void>((resolve) =>
        server.broker.on('clientDisconnect', (c) => c.id.startsWith('t:term-w/') && resolve()),
      ),
      'the server seeing term-w go',
    );
    w.stream.destroy();
    // Aedes publishes a will on the way to 'clientDisconnect'; a request of term-w's sent after it
    // is served after anything the dropped connection left (one queue per terminal).
    await gone;
    const again = await TestTerminal.open(server.port ?? 0, 'term-w', 't', credential);
    expect((await again.request({ type: 'probe', subscriber: X, after: 0 })).type).toBe('probe-result');
    expect(
      (await server.admin.history(X)).filter(
        (e) => e.terminalId === 'term-w' && e.action !== 'register' && e.action !== 'connect',
      ),
    ).toEqual([]);
  });

  it("serves one terminal's requests one at a time, in the order sent", async () => {
    const replies = Array.from({ length: 20 }, (_, i) =>
      a.request({ type: 'upload', subscriber: X, batch: i + 1, changes: [[C, `r${i}`, 0, 1, bytes(i)]] }),
    );
    const acks = await Promise.all(replies);
    expect(acks.map((r) => (r.type === 'upload-ack' ? r.seqs[0] : -1))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });
});
