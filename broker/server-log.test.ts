import { afterEach, describe, expect, it, vi } from 'vitest';
import { categoryCode } from '../core/protocol/index.js';
import type { Logger } from './logger.js';
import type { SyncServer } from './server.js';
import { shortSubscriber } from './server-log.js';
import {
  bytes,
  connackCode,
  connectRaw,
  endClients,
  grantedQos,
  registerVia,
  startTestServer,
  stopTestServer,
  TestTerminal,
  WAIT_MS,
  within,
  X,
  Y,
} from './test-support.js';

const C = categoryCode('contacts');
const T0 = 1_764_000_000_000;

interface Line {
  level: keyof Logger;
  fields: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps every line, as pino would write it. */
function recorder(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: keyof Logger) =>
    (fields: Record<string, unknown>, msg = '') =>
      lines.push({ level, fields, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('the server log: one line per connection, sync, refusal and disconnection (issue 16)', () => {
  let server: SyncServer;
  let log: ReturnType<typeof recorder>;

  async function start(): Promise<void> {
    log = recorder();
    server = await startTestServer({ logger: log });
  }
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  /** The messages of `event` lines naming this connection (`t:pc-1`), in order. */
  const said = (name: string, event: string) =>
    log.lines.filter((l) => l.fields.event === event && l.msg.includes(` ${name}`)).map((l) => l.msg);
  const waitSaid = (name: string, event: string, count: number) =>
    vi.waitFor(() => expect(said(name, event)).toHaveLength(count), { timeout: WAIT_MS });

  it('a connection, its sync and its disconnection each get one line: who, from where, how many records', async () => {
    await start();
    const other = await TestTerminal.open(
      server.port ?? 0,
      'other',
      't',
      await registerVia(server, 'other', X),
    );
    await other.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'o', 0, T0, bytes(1)]] });
    const pc = await TestTerminal.open(server.port ?? 0, 'pc-1', 't', await registerVia(server, 'pc-1', X));

    // One sync as the engine makes it: download pages, then the upload (core/engine/sync-runner.ts).
    await pc.request({ type: 'download', subscriber: X, after: 0, maxBytes: 4096 });
    await pc.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [
        [C, 'a', 0, T0, bytes(1, 2)],
        [C, 'b', 0, T0, bytes(3)],
      ],
    });
    await pc.request({ type: 'probe', subscriber: X, after: 3 });
    await pc.end();
    await waitSaid('t:pc-1', 'disconnect', 1);

    expect(said('t:pc-1', 'connect')).toEqual([
      `New client connected from 127.0.0.1 as t:pc-1 (subscriber ${shortSubscriber(X)})`,
    ]);
    expect(said('t:pc-1', 'sync')).toEqual([expect.stringMatching(/^sync t:pc-1: up 2, down 1, \d+ ms$/)]);
    expect(said('t:pc-1', 'disconnect')).toEqual(['Client t:pc-1 disconnected.']);
    const sync = log.lines.find((l) => l.fields.event === 'sync' && l.fields.terminalId === 'pc-1');
    expect(sync?.fields).toMatchObject({ up: 2, upBytes: 3, down: 1, downBytes: 1, requests: 3 });
    // In that order: the sync's line before the disconnection's.
    const order = log.lines.filter((l) => l.fields.terminalId === 'pc-1' && l.msg.includes(' t:pc-1'));
    expect(order.map((l) => l.fields.event)).toEqual(['connect', 'sync', 'disconnect']);
    // The first pair is the registration connection.
    expect(said('reg:pc-1', 'connect')).toHaveLength(1);
    await waitSaid('reg:pc-1', 'disconnect', 1);
    expect(said('reg:pc-1', 'disconnect')).toEqual(['Client reg:pc-1 disconnected.']);
  });

  it('a terminal that stays connected gets a line per sync, each written once it goes quiet', async () => {
    await start();
    const pc = await TestTerminal.open(server.port ?? 0, 'pc-1', 't', await registerVia(server, 'pc-1', X));
    await pc.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'a', 0, T0, bytes(1)]] });
    await waitSaid('t:pc-1', 'sync', 1);
    await pc.request({ type: 'download', subscriber: X, after: 0, maxBytes: 4096 });
    await waitSaid('t:pc-1', 'sync', 2);
    expect(said('t:pc-1', 'sync')).toEqual([
      expect.stringMatching(/^sync t:pc-1: up 1, down 0, \d+ ms$/),
      expect.stringMatching(/^sync t:pc-1: up 0, down 0, \d+ ms$/),
    ]);
    expect(said('t:pc-1', 'disconnect')).toEqual([]);
    // A probe alone ([0043]) is no sync.
    await pc.request({ type: 'probe', subscriber: X, after: 0 });
    await pc.end();
    await waitSaid('t:pc-1', 'disconnect', 1);
    expect(said('t:pc-1', 'sync')).toHaveLength(2);
  });

  it('a refusal gets one line saying who and why: at CONNECT, a request, a topic', async () => {
    await start();
    const credential = await registerVia(server, 'pc-1', X);
    expect(await connackCode(server.port ?? 0, { username: 't:pc-1', password: 'not-it' })).toBe(4);
    await waitSaid('t:pc-1', 'refused', 1);
    expect(said('t:pc-1', 'refused')).toEqual([
      'refused t:pc-1 from 127.0.0.1: unknown terminal or wrong credential',
    ]);

    const pc = await TestTerminal.open(server.port ?? 0, 'pc-1', 't', credential);
    await server.admin.addSubscriber({ subscriber: Y });
    const r = await pc.request({
      type: 'upload',
      subscriber: Y,
      batch: 1,
      changes: [[C, 'a', 0, T0, bytes(1)]],
    });
    expect(r).toMatchObject({ type: 'error', code: 'not-registered' });
    expect(await grantedQos(pc.client, 'ss/1/t/other/down')).toBe(128);
    expect(said('t:pc-1', 'refused')).toEqual([
      'refused t:pc-1 from 127.0.0.1: unknown terminal or wrong credential',
      'refused t:pc-1 upload: not-registered: subscriber and terminal are not a registered pair',
      'refused t:pc-1: subscribe to ss/1/t/other/down',
    ]);
    // A refused request is no sync.
    await pc.end();
    await waitSaid('t:pc-1', 'disconnect', 1);
    expect(said('t:pc-1', 'sync')).toEqual([]);
  });

  it('never writes a secret, a credential, or a whole IMSI', async () => {
    await start();
    const loginPassword = 'login-pw-5b1c9e';
    await server.admin.addSubscriber({ subscriber: X, loginPassword });
    const { code } = await server.admin.issueCode(X, undefined, 'pc-1');
    // A wrong login password, a password typed as the username, then the right code.
    expect(
      await connackCode(server.port ?? 0, { username: 'reg:pc-1', password: `${X}:wrong-pw-77aa` }),
    ).toBe(4);
    expect(await connackCode(server.port ?? 0, { username: loginPassword, password: 'x' })).toBe(4);
    const reg = await TestTerminal.open(server.port ?? 0, 'pc-1', 'reg', `${X}:${code}`);
    const terminalPassword = 'terminal-pw-0d4f';
    const registered = await reg.request({
      type: 'register',
      subscriber: X,
      categories: ['contacts'],
      terminalPassword,
    });
    if (registered.type !== 'registered') throw new Error('not registered');
    const pc = await TestTerminal.open(server.port ?? 0, 'pc-1', 't', registered.credential);
    await pc.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'a', 0, T0, bytes(1)]] });
    const raw = await connectRaw(server.port ?? 0, { username: 't:pc-1', password: registered.credential });
    const closed = within(
      new Promise<void>((r) => raw.once('close', () => r())),
      'close after a refused publish',
    );
    raw.publish('ss/1/t/other/up', Buffer.from([1]), { qos: 1 });
    await closed;
    await server.admin.revoke('pc-1');
    await waitSaid('t:pc-1', 'disconnect', 2);
    await waitSaid('reg:pc-1', 'disconnect', 1);

    expect(said('a malformed username', 'refused')).toHaveLength(1);
    expect(said('t:pc-1', 'refused')).toEqual(['refused t:pc-1: publish to ss/1/t/other/up']);
    expect(said('reg:pc-1', 'refused')).toEqual([
      expect.stringMatching(/^refused reg:pc-1 from 127\.0\.0\.1: /),
    ]);
    const written = log.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of [loginPassword, 'wrong-pw-77aa', code, terminalPassword, registered.credential, X]) {
      expect(written).not.toContain(secret);
    }
  });
});
