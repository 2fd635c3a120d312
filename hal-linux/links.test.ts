import { afterEach, describe, expect, it } from 'vitest';
import { type ByteStream, isHalError, type LinkState } from '../hal/index.js';
import { describeByteStreamContract } from '../test/contracts/byte-stream.contract.js';
import { describeClockContract } from '../test/contracts/clock.contract.js';
import { describeRadioLinkContract } from '../test/contracts/radio-link.contract.js';
import { delay, waitFor } from '../test/contracts/wait.js';
import { type Pem, selfSigned } from '../test/support/self-signed.js';
import { linkFromUrl } from './link-from-url.js';
import { SystemClock } from './system-clock.js';
import { TcpLink } from './tcp-link.js';
import { type LocalServer, socketServer, wsServer } from './testing/local-servers.js';
import { WsLink } from './ws-link.js';

let certificate: Promise<Pem> | undefined;
const pem = () => {
  certificate ??= selfSigned();
  return certificate;
};

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

/** A contract pair: `a` opened through the link under test, `b` the server's end. */
async function pairThrough(server: LocalServer, url: string, ca?: string) {
  const link = linkFromUrl(url, ca === undefined ? {} : { tls: { ca } });
  const [a, b] = await Promise.all([link.open(), server.nextStream()]);
  return { a, b, cleanup: () => server.close() };
}

describeClockContract('SystemClock', async () => ({ clock: new SystemClock(), advance: delay }));

describeByteStreamContract('TcpLink over mqtt://', async () => {
  const server = await socketServer();
  return pairThrough(server, `mqtt://127.0.0.1:${server.port}`);
});

describeByteStreamContract('TcpLink over mqtts:// with a self-signed CA', async () => {
  const server = await socketServer(await pem());
  return pairThrough(server, `mqtts://localhost:${server.port}`, (await pem()).cert);
});

describeByteStreamContract('WsLink over ws://', async () => {
  const server = await wsServer();
  return pairThrough(server, `ws://127.0.0.1:${server.port}/mqtt`);
});

describeByteStreamContract('WsLink over wss:// with a self-signed CA', async () => {
  const server = await wsServer(await pem());
  return pairThrough(server, `wss://localhost:${server.port}/mqtt`, (await pem()).cert);
});

/** A port nobody listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = await socketServer();
  await server.close();
  return server.port;
}

/**
 * A host link learns its state from its own attempts (link-state.ts): going
 * down is the server stopping and an open() refused, coming up the server
 * back on the same port and an open() accepted.
 */
for (const scheme of ['mqtt', 'ws'] as const) {
  describeRadioLinkContract(`${scheme === 'mqtt' ? 'TcpLink' : 'WsLink'} over ${scheme}://`, async () => {
    const serve = (port?: number) =>
      scheme === 'mqtt' ? socketServer(undefined, port) : wsServer(undefined, '/mqtt', port);
    let server: LocalServer | undefined = await serve();
    const port = server.port;
    const link = linkFromUrl(`${scheme}://127.0.0.1:${port}/mqtt`);
    return {
      link,
      goDown: async () => {
        await server?.close();
        server = undefined;
        await rejection(link.open());
      },
      goUp: async () => {
        server ??= await serve(port);
        (await link.open()).close();
      },
      cleanup: () => server?.close(),
    };
  });
}

describe('linkFromUrl', () => {
  it('maps each scheme to its link and default port', () => {
    expect(linkFromUrl('mqtt://broker.example')).toBeInstanceOf(TcpLink);
    expect(linkFromUrl('mqtts://broker.example')).toBeInstanceOf(TcpLink);
    expect(linkFromUrl('ws://broker.example/mqtt')).toBeInstanceOf(WsLink);
    expect(linkFromUrl('wss://broker.example/mqtt', { metered: true }).state()).toEqual({
      up: true,
      metered: true,
    });
  });

  it("rejects other schemes and garbage with 'not-supported'", () => {
    for (const url of ['http://broker.example', 'broker.example:1883', 'mqtt://', '']) {
      let thrown: unknown;
      try {
        linkFromUrl(url);
      } catch (e) {
        thrown = e;
      }
      expect(isHalError(thrown, 'not-supported'), url).toBe(true);
    }
  });
});

describe('host links against local servers', () => {
  let servers: LocalServer[] = [];
  const track = <T extends LocalServer>(server: T): T => {
    servers.push(server);
    return server;
  };

  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  it("a refused connection rejects 'link-down' and the link reports down, then up after a good open", async () => {
    for (const scheme of ['mqtt', 'ws']) {
      const link = linkFromUrl(`${scheme}://127.0.0.1:${await deadPort()}/mqtt`);
      const states: LinkState[] = [];
      link.onState((s) => states.push(s));
      expect(isHalError(await rejection(link.open()), 'link-down'), scheme).toBe(true);
      expect(link.state().up).toBe(false);
      expect(states).toEqual([{ up: false, metered: false }]);
    }
    const server = track(await socketServer());
    const link = new TcpLink({ host: '127.0.0.1', port: server.port });
    await rejection(new TcpLink({ host: '127.0.0.1', port: await deadPort() }).open());
    (await link.open()).close();
    expect(link.state().up).toBe(true);
  });

  it("a server that accepts but never answers the handshake rejects 'timeout'", async () => {
    const silent = track(await socketServer());
    for (const url of [`mqtts://localhost:${silent.port}`, `ws://127.0.0.1:${silent.port}/mqtt`]) {
      const error = await rejection(linkFromUrl(url, { timeoutMs: 200 }).open());
      expect(isHalError(error, 'timeout'), url).toBe(true);
    }
  });

  it("TLS: a certificate not signed by the trusted CA is refused with 'link-down'", async () => {
    const server = track(await socketServer(await pem()));
    const error = await rejection(linkFromUrl(`mqtts://localhost:${server.port}`).open());
    expect(isHalError(error, 'link-down')).toBe(true);
    const wss = track(await wsServer(await pem()));
    const wsError = await rejection(linkFromUrl(`wss://localhost:${wss.port}/mqtt`).open());
    expect(isHalError(wsError, 'link-down')).toBe(true);
  });

  it('TLS: presents the client certificate to a server that requires one', async () => {
    const serverPem = await pem();
    const clientPem = await selfSigned('terminal-1');
    const server = track(await socketServer({ ...serverPem, requestCert: true, clientCa: clientPem.cert }));
    const peers: string[] = [];
    server.server.on('secureConnection', (socket) => peers.push(socket.getPeerCertificate().subject.CN));
    const tls = { ca: serverPem.cert, ...clientPem };
    const stream = await linkFromUrl(`mqtts://localhost:${server.port}`, { tls }).open();
    const serverEnd = await server.nextStream();
    await stream.write(Uint8Array.of(0x10));
    await new Promise<void>((resolve) => serverEnd.onData(() => resolve()));
    expect(peers).toEqual(['terminal-1']);
    stream.close();
  });

  it('TLS: without a client certificate the server refuses (at open, or by breaking the stream)', async () => {
    const serverPem = await pem();
    const clientPem = await selfSigned('terminal-1');
    const server = track(await socketServer({ ...serverPem, requestCert: true, clientCa: clientPem.cert }));
    const link = linkFromUrl(`mqtts://localhost:${server.port}`, { tls: { ca: serverPem.cert } });
    const opened = await link.open().catch((e: unknown) => e);
    if (isHalError(opened)) {
      expect(opened.kind).toBe('link-down');
      return;
    }
    const stream = opened as ByteStream;
    const closes: Array<Error | undefined> = [];
    stream.onClose((e) => closes.push(e));
    await stream.write(Uint8Array.of(0x10)).catch(() => {});
    await waitFor(() => closes.length > 0, { what: 'refusal' });
    expect(isHalError(closes[0], 'link-down')).toBe(true);
    expect(link.state().up).toBe(false);
  });

  it("WebSocket: a server without the 'mqtt' subprotocol or on another path is refused", async () => {
    const server = track(await wsServer(undefined, '/mqtt'));
    const wrongPath = await rejection(linkFromUrl(`ws://127.0.0.1:${server.port}/other`).open());
    expect(isHalError(wrongPath, 'link-down')).toBe(true);
    const wrongProtocol = new WsLink({ url: `ws://127.0.0.1:${server.port}/mqtt`, protocol: 'mqttv5' });
    expect(isHalError(await rejection(wrongProtocol.open()), 'link-down')).toBe(true);
  });

  it('WebSocket: a peer dropping the connection closes the stream with an error and the link goes down', async () => {
    const server = track(await wsServer());
    const link = linkFromUrl(`ws://127.0.0.1:${server.port}/mqtt`);
    const stream = await link.open();
    await server.nextStream();
    const closes: Array<Error | undefined> = [];
    stream.onClose((e) => closes.push(e));
    await server.close();
    servers = [];
    await waitFor(() => closes.length > 0, { what: 'close' });
    expect(isHalError(closes[0], 'link-down')).toBe(true);
    expect(link.state().up).toBe(false);
  });
});
