import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { byteStreamDuplex } from '../core/net/byte-stream-duplex.js';
import { categoryCode } from '../core/protocol/index.js';
import { createDuplexPair } from '../hal-sim/index.js';
import { selfSigned } from '../test/support/self-signed.js';
import type { Logger } from './logger.js';
import type { SyncServer } from './server.js';
import {
  bytes,
  connectRaw,
  endClients,
  startTestServer,
  stopTestServer,
  TestTerminal,
  X,
} from './test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'simsync-tls-'));
const keyPath = join(dir, 'key.pem');
const certPath = join(dir, 'cert.pem');

beforeAll(async () => {
  const pem = await selfSigned();
  writeFileSync(keyPath, pem.key);
  writeFileSync(certPath, pem.cert);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('transports: TLS and WebSocket', () => {
  let server: SyncServer | undefined;

  afterEach(async () => {
    await endClients();
    if (server) await stopTestServer(server);
    server = undefined;
  });

  it('registers over TLS (key and cert from files) and syncs over WebSocket, with plain TCP off', async () => {
    server = await startTestServer({
      port: null,
      tls: { key: keyPath, cert: certPath, port: 0 },
      ws: { port: 0 },
    });
    expect(server.port).toBeNull();
    const tlsUrl = `mqtts://127.0.0.1:${server.tlsPort}`;
    const wsUrl = `ws://127.0.0.1:${server.wsPort}`;
    const ca = readFileSync(certPath);

    const { code } = await server.admin.registerShop({
      terminalId: 'pi-1',
      subscriber: X,
      categories: ['contacts'],
    });
    const reg = await TestTerminal.open(0, 'pi-1', 'reg', `${X}:${code}`, tlsUrl, { ca });
    const registered = await reg.request({ type: 'register', subscriber: X, categories: ['contacts'] });
    if (registered.type !== 'registered')
      throw new Error(`registration failed: ${JSON.stringify(registered)}`);

    const t = await TestTerminal.open(0, 'pi-1', 't', registered.credential, wsUrl);
    const ack = await t.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [[categoryCode('contacts'), 'a', 0, 1, bytes(1, 2)]],
    });
    expect(ack).toMatchObject({ type: 'upload-ack', seqs: [1] });
  });

  it('takes TLS key and cert as buffers, and refuses a client that does not trust the certificate', async () => {
    server = await startTestServer({
      tls: { key: readFileSync(keyPath), cert: readFileSync(certPath), port: 0 },
    });
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'pw' });
    const url = `mqtts://127.0.0.1:${server.tlsPort}`;
    const reg = await TestTerminal.open(0, 'pc-1', 'reg', `${X}:pw`, url, { ca: readFileSync(certPath) });
    expect((await reg.request({ type: 'probe', subscriber: X, after: 0 })).type).toBe('error');
    await expect(connectRaw(0, { username: 'reg:pc-2', password: `${X}:pw` }, url)).rejects.toThrow(
      /certificate/,
    );
  });

  it('close() ends connected clients and stops listening', async () => {
    const s = await startTestServer({ ws: { port: 0 } });
    await s.admin.addSubscriber({ subscriber: X, loginPassword: 'pw' });
    const tcp = await TestTerminal.open(s.port ?? 0, 'pc-1', 'reg', `${X}:pw`);
    const ws = await TestTerminal.open(0, 'pc-2', 'reg', `${X}:pw`, `ws://127.0.0.1:${s.wsPort}`);
    const closed = Promise.all([tcp.waitClosed(), ws.waitClosed()]);
    await stopTestServer(s);
    await closed;
    await expect(connectRaw(s.port ?? 0, { username: 'reg:pc-3', password: `${X}:pw` })).rejects.toThrow();
  });

  it('applies the transport limit to WebSocket connections too', async () => {
    server = await startTestServer({ ws: { port: 0 }, maxMessageBytes: 8 * 1024, maxPacketBytes: 16 * 1024 });
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'pw' });
    const reg = await TestTerminal.open(0, 'pc-1', 'reg', `${X}:pw`, `ws://127.0.0.1:${server.wsPort}`);
    const closed = reg.waitClosed();
    reg.client.publish('ss/1/reg/pc-1/up', Buffer.alloc(32 * 1024), { qos: 0 });
    await closed;
  });
});

describe('in-memory connections (SyncServer.accept): the guards of plain TCP', () => {
  let server: SyncServer | undefined;
  const lines: { level: string; msg: string | undefined; obj: Record<string, unknown> }[] = [];
  const logger: Logger = Object.fromEntries(
    (['debug', 'info', 'warn', 'error'] as const).map((level) => [
      level,
      (obj: Record<string, unknown>, msg?: string) => lines.push({ level, msg, obj }),
    ]),
  ) as unknown as Logger;
  afterEach(async () => {
    if (server) await stopTestServer(server);
    server = undefined;
    lines.length = 0;
  });

  /** An MQTT 3.1.1 CONNECT with username and password (§3.1). */
  function mqttConnect(user: string, password: string): Uint8Array {
    const str = (v: string) => [...[v.length >> 8, v.length & 0xff], ...new TextEncoder().encode(v)];
    const body = [...str('MQTT'), 4, 0xc2, 0, 60, ...str('c1'), ...str(user), ...str(password)];
    return Uint8Array.from([0x10, body.length, ...body]);
  }

  /** A pipe whose server end is handed to `s` from `address`; what comes back is collected. */
  function open(s: SyncServer, address: string) {
    const [terminal, serverEnd] = createDuplexPair();
    s.accept(byteStreamDuplex(serverEnd, { sent: 0, received: 0 }), address);
    const received: number[] = [];
    terminal.onData((b) => received.push(...b));
    const closed = new Promise<void>((resolve) => terminal.onClose(() => resolve()));
    return { terminal, received, closed };
  }

  const connack = (received: number[]) =>
    vi.waitFor(() => {
      if (received.length < 4) throw new Error('no CONNACK yet');
      return received.slice(0, 4);
    });

  it('serves a CONNECT on a pipe and names the address it was given (log, attempt limits)', async () => {
    server = await startTestServer({ port: null, logger });
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'right' });
    const c = open(server, '127.0.0.2');
    await c.terminal.write(mqttConnect('reg:t1', `${X}:right`));
    expect(await connack(c.received)).toEqual([0x20, 2, 0, 0]);
    expect(lines.find((l) => l.obj.event === 'connect')?.obj.from).toBe('127.0.0.2');
  });

  it('closes a pipe whose packet announces more than maxPacketBytes, before Aedes buffers it', async () => {
    server = await startTestServer({ port: null, logger, maxMessageBytes: 1024, maxPacketBytes: 2048 });
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'right' });
    const c = open(server, '127.0.0.2');
    await c.terminal.write(mqttConnect('reg:t1', `${X}:right`));
    await connack(c.received);
    // PUBLISH QoS 0 announcing a remaining length of 16 384 (0x80 0x80 0x01), only its header sent.
    await c.terminal.write(Uint8Array.from([0x30, 0x80, 0x80, 0x01]));
    await c.closed;
    expect(lines.filter((l) => l.msg === 'connection closed: packet too large')).toMatchObject([
      { obj: { transport: 'memory' } },
    ]);
  });

  it('behind a balancer (proxyProtocol) a pipe too must open with the PROXY header, whose address counts', async () => {
    server = await startTestServer({ port: null, logger, proxyProtocol: true });
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'right' });
    const bare = open(server, '127.0.0.2');
    await bare.terminal.write(mqttConnect('reg:t1', `${X}:right`));
    await bare.closed;
    expect(bare.received).toEqual([]);
    const proxied = open(server, '127.0.0.2');
    const header = new TextEncoder().encode('PROXY TCP4 203.0.113.7 127.0.0.1 40000 1883\r\n');
    await proxied.terminal.write(Uint8Array.from([...header, ...mqttConnect('reg:t2', `${X}:right`)]));
    expect(await connack(proxied.received)).toEqual([0x20, 2, 0, 0]);
    expect(lines.find((l) => l.obj.event === 'connect')?.obj.from).toBe('203.0.113.7');
  });

  it('a pipe handed over after close() is closed at once', async () => {
    const s = await startTestServer({ port: null });
    await stopTestServer(s);
    const c = open(s, '127.0.0.2');
    await c.closed;
    expect(c.received).toEqual([]);
  });
});
