import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProxyHeader } from './proxy-protocol.js';
import type { SyncServer } from './server.js';
import { startTestServer, stopTestServer, X } from './test-support.js';

/** Vectors from HAProxy's proxy-protocol.txt (§2.1 and §2.2). */
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const ascii = (s: string) => new TextEncoder().encode(s);
const V2_SIG = '0d0a0d0a000d0a515549540a';

describe('PROXY protocol header (HAProxy proxy-protocol.txt)', () => {
  it('§2.1: reads a v1 TCP4 and TCP6 line, and UNKNOWN as the balancer itself', () => {
    expect(parseProxyHeader(ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /'))).toEqual({
      kind: 'proxied',
      sourceAddress: '192.168.0.1',
      sourcePort: 56324,
      headerBytes: 47,
    });
    expect(parseProxyHeader(ascii('PROXY TCP6 2001:db8::1 2001:db8::2 4000 1883\r\n'))).toMatchObject({
      kind: 'proxied',
      sourceAddress: '2001:db8::1',
    });
    expect(parseProxyHeader(ascii('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'local', headerBytes: 15 });
  });

  it('§2.2: reads a v2 PROXY TCP over IPv4 header, and LOCAL (health checks)', () => {
    const ipv4 = hex(`${V2_SIG}2111000cc0a80001c0a8000bdc0401bb101112`);
    expect(parseProxyHeader(ipv4)).toEqual({
      kind: 'proxied',
      sourceAddress: '192.168.0.1',
      sourcePort: 56324,
      headerBytes: 28,
    });
    expect(parseProxyHeader(hex(`${V2_SIG}20000000`))).toEqual({ kind: 'local', headerBytes: 16 });
  });

  it('waits for the rest of a header cut anywhere, and refuses what is not one', () => {
    const line = ascii('PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n');
    for (let cut = 0; cut < line.length; cut++) {
      expect(parseProxyHeader(line.subarray(0, cut)).kind).toBe('incomplete');
    }
    const v2 = hex(`${V2_SIG}2111000c0a0000010a00000200010002`);
    for (let cut = 0; cut < 28; cut++) expect(parseProxyHeader(v2.subarray(0, cut)).kind).toBe('incomplete');
    expect(parseProxyHeader(v2).kind).toBe('proxied');
    expect(parseProxyHeader(hex('101600044d515454')).kind).toBe('invalid'); // an MQTT CONNECT
    expect(parseProxyHeader(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n')).kind).toBe('invalid');
    expect(parseProxyHeader(ascii(`PROXY TCP4 ${'1'.repeat(120)}`)).kind).toBe('invalid');
    expect(parseProxyHeader(hex(`${V2_SIG}31110000`)).kind).toBe('invalid');
  });
});

describe('a server behind a balancer (--proxy-protocol)', () => {
  let server: SyncServer;
  afterEach(async () => stopTestServer(server));

  /** Sends raw bytes and resolves with what came back before the server closed or 1 s passed. */
  function exchange(port: number, bytes: Uint8Array): Promise<Buffer> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      let got = Buffer.alloc(0);
      socket.on('data', (d) => {
        got = Buffer.concat([got, d]);
      });
      const done = () => resolve(got);
      socket.on('close', done);
      socket.on('error', done);
      setTimeout(() => socket.destroy(), 1000);
    });
  }

  /** An MQTT 3.1.1 CONNECT with username and password (§3.1). */
  function mqttConnect(user: string, password: string): Uint8Array {
    const str = (s: string) => [...[s.length >> 8, s.length & 0xff], ...new TextEncoder().encode(s)];
    const body = [...str('MQTT'), 4, 0xc2, 0, 60, ...str('c1'), ...str(user), ...str(password)];
    return Uint8Array.from([0x10, body.length, ...body]);
  }

  it('counts failures against the address in the header, not the balancer’s', async () => {
    const failures: string[] = [];
    server = await startTestServer({
      proxyProtocol: true,
      attemptLimits: {},
      onAuthFailure: (r) => failures.push(r),
    });
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'right' });
    const port = server.port ?? 0;
    const from = (address: string) => ascii(`PROXY TCP4 ${address} 127.0.0.1 40000 1883\r\n`);
    const connack = async (address: string) => {
      const reply = await exchange(
        port,
        Uint8Array.from([...from(address), ...mqttConnect('reg:t1', `${X}:wrong`)]),
      );
      return reply[3];
    };
    // Five wrong guesses from one terminal's address put it in back-off …
    for (let i = 0; i < 5; i++) expect(await connack('203.0.113.7')).toBe(4);
    expect(await connack('203.0.113.7')).toBe(3);
    // … and another terminal behind the same balancer is not (its subscriber key aside).
    failures.length = 0;
    await server.admin.addSubscriber({ subscriber: '228062800000208', loginPassword: 'x' });
    const other = await exchange(
      port,
      Uint8Array.from([...from('198.51.100.9'), ...mqttConnect('reg:t2', '228062800000208:x')]),
    );
    expect(other[3]).toBe(0);
  });

  it('closes a connection that does not open with a PROXY header', async () => {
    server = await startTestServer({ proxyProtocol: true });
    const reply = await exchange(server.port ?? 0, mqttConnect('reg:t1', `${X}:x`));
    expect(reply.length).toBe(0);
  });
});
