import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { categoryCode } from '../core/protocol/index.js';
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

beforeAll(() => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore', timeout: 20_000 },
  );
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
