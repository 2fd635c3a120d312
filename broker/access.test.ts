import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { categoryCode, downTopic, encodeRequest, regReplyTopic, upTopic } from '../core/protocol/index.js';
import type { SyncServer } from './server.js';
import {
  bytes,
  connectRaw,
  endClients,
  grantedQos,
  onlineTerminal,
  registerVia,
  roundTrip,
  startTestServer,
  stopTestServer,
  type TestTerminal,
  within,
  X,
  Y,
} from './test-support.js';

const C = categoryCode('contacts');

describe('per-terminal topic ACL (DESIGN.md "Wire")', () => {
  let server: SyncServer;
  let port: number;
  let credentialA: string;
  let b: TestTerminal;
  let other: TestTerminal;

  beforeEach(async () => {
    server = await startTestServer();
    port = server.port ?? 0;
    credentialA = await registerVia(server, 'term-a', X);
    b = await onlineTerminal(server, 'term-b', X);
    other = await onlineTerminal(server, 'term-y', Y);
  });
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  function plainA(clientId = 'snooper'): Promise<MqttClient> {
    return connectRaw(port, { clientId, username: 't:term-a', password: credentialA });
  }

  it("grants only the terminal's own down topic; every other filter is refused with 0x80", async () => {
    const a = await plainA();
    const refused = [
      '#',
      '+',
      'ss/1/#',
      'ss/1/+/+/+',
      'ss/1/t/+/down',
      'ss/1/t/+/up',
      'ss/1/t/term-a/+',
      'ss/1/t/term-a/#',
      upTopic('term-a'),
      downTopic('term-b'),
      upTopic('term-b'),
      downTopic('term-y'),
      downTopic('term-a', 'reg'),
      '$SYS/#',
      'anything/else',
    ];
    for (const topic of refused) {
      expect([topic, await grantedQos(a, topic)]).toEqual([topic, 128]);
    }
    expect(await grantedQos(a, downTopic('term-a'))).toBe(1);
  });

  it("never delivers another terminal's messages, even to a client that asked for everything", async () => {
    const a = await plainA();
    const seen: string[] = [];
    a.on('message', (topic) => seen.push(topic));
    for (const topic of ['#', 'ss/1/#', 'ss/1/t/+/down', 'ss/1/t/+/up']) await grantedQos(a, topic);
    await grantedQos(a, downTopic('term-a'));

    // B and Y talk to the server; B's upload also notifies A (same subscriber) on A's own topic.
    await b.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'r', 0, 1, bytes(1)]] });
    await b.request({ type: 'download', subscriber: X, after: 0, maxBytes: 4096 });
    await other.request({ type: 'upload', subscriber: Y, batch: 1, changes: [[C, 'r', 0, 1, bytes(2)]] });
    // Barrier: whatever reached A before its own round trip's answer has arrived by then.
    await roundTrip(a, 'term-a', X);
    expect(seen).toEqual([downTopic('term-a'), downTopic('term-a')]);
  });

  it("closes a client that publishes on another terminal's topic, and nothing is done in that terminal's name", async () => {
    for (const topic of [
      upTopic('term-b'),
      upTopic('term-y'),
      downTopic('term-b'),
      downTopic('term-a'),
      'ss/1/x',
    ]) {
      const a = await plainA();
      const closed = within(
        new Promise<void>((r) => a.once('close', () => r())),
        `close after publishing ${topic}`,
      );
      const payload = encodeRequest({
        type: 'upload',
        req: 1,
        subscriber: X,
        batch: 9,
        changes: [[C, 'evil', 0, 1, bytes(6)]],
      });
      a.publish(topic, Buffer.from(payload), { qos: 1 });
      await closed;
    }
    expect(await server.store.getRecord(X, 'contacts', 'evil')).toBeUndefined();
    expect(await server.store.getRecord(Y, 'contacts', 'evil')).toBeUndefined();
    expect(b.client.connected).toBe(true);
  });

  it('refuses retained publishes, even on its own up topic', async () => {
    const a = await plainA();
    const closed = within(new Promise<void>((r) => a.once('close', () => r())), 'close');
    a.publish(upTopic('term-a'), Buffer.from([0xa0]), { qos: 0, retain: true });
    await closed;
  });

  it("cannot take over another terminal's session by reusing its client ID", async () => {
    await plainA(b.client.options.clientId);
    // A takeover closes the old connection before the new one's CONNACK: B's next round trip would fail.
    const reply = await b.request({ type: 'probe', subscriber: X, after: 0 });
    expect(reply.type).toBe('probe-result');
    expect(b.client.connected).toBe(true);
  });

  it('a registration connection may only use the reg topics of its own terminal', async () => {
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'pw' });
    const reg = await connectRaw(port, { username: 'reg:term-new', password: `${X}:pw` });
    expect(await grantedQos(reg, downTopic('term-new'))).toBe(128);
    expect(await grantedQos(reg, downTopic('term-a', 'reg'))).toBe(128);
    // Its replies come on a topic of its own, which no other connection can take.
    expect(await grantedQos(reg, downTopic('term-new', 'reg'))).toBe(128);
    const own = regReplyTopic('term-new', 'n'.repeat(22));
    expect(await grantedQos(reg, own)).toBe(1);
    expect(await grantedQos(reg, regReplyTopic('term-new', 'm'.repeat(22)))).toBe(128);
    const other = await connectRaw(port, { username: 'reg:term-new', password: `${X}:pw` });
    expect(await grantedQos(other, own)).toBe(128);
  });
});
