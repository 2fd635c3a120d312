import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newTerminalIdentity } from '../core/protocol/index.js';
import type { SyncServer } from './server.js';
import {
  connackCode,
  endClients,
  registerVia,
  startTestServer,
  stopTestServer,
  TestTerminal,
  X,
  Y,
} from './test-support.js';

describe('registration (FIG. 8, FIG. 18/19) and CONNECT', () => {
  let server: SyncServer;
  let clock: number;
  let port: number;

  beforeEach(async () => {
    clock = 1_764_000_000_000;
    server = await startTestServer({ now: () => clock });
    port = server.port ?? 0;
  });
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  it('FIG. 8 S5–S6: registers a terminal with the login password, hashing its terminal password', async () => {
    await server.admin.addSubscriber({
      subscriber: X,
      iccid: '8988211000000430010',
      loginPassword: 'sesame',
    });
    const { key, terminalId } = await newTerminalIdentity();
    const reg = await TestTerminal.open(port, terminalId, 'reg', `${X}:sesame`);
    const reply = await reg.request({
      type: 'register',
      subscriber: X,
      terminalPassword: 'terminal-pw',
      categories: ['rights', 'application', 'contacts'],
      terminalKey: key,
    });
    expect(reply).toMatchObject({ type: 'registered', categories: ['contacts', 'application', 'rights'] });
    if (reply.type !== 'registered') return;
    expect(reply.credential).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const [terminal] = await server.admin.listTerminals(X);
    expect(terminal).toMatchObject({ terminalId, hasTerminalPassword: true, hasCredential: true });
    const row = await server.store.getTerminal(terminalId);
    expect(row?.passwordHash).toMatch(/^scrypt\$/);
    expect(row?.credentialHash).not.toContain(reply.credential);

    expect(await connackCode(port, { username: `t:${terminalId}`, password: reply.credential })).toBe(0);
    expect((await server.admin.history(X)).map((e) => [e.action, e.outcome])).toContainEqual([
      'register',
      'accepted',
    ]);
  });

  it('refuses a wrong secret, anonymous clients, unknown usernames and unknown credentials at CONNECT', async () => {
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'sesame' });
    const credential = await registerVia(server, 'pc-1', X);
    expect(await connackCode(port, { username: 'reg:pc-2', password: `${X}:wrong` })).toBe(4);
    expect(await connackCode(port, { username: 'reg:pc-2', password: `${Y}:sesame` })).toBe(4);
    expect(await connackCode(port, { username: 'reg:pc-2', password: 'sesame' })).toBe(4);
    expect(await connackCode(port, {})).toBe(4);
    expect(await connackCode(port, { username: 'admin', password: 'admin' })).toBe(4);
    expect(await connackCode(port, { username: 't:pc-1' })).toBe(4);
    expect(await connackCode(port, { username: 't:pc-1', password: 'x'.repeat(43) })).toBe(4);
    expect(await connackCode(port, { username: 't:nobody', password: credential })).toBe(4);
    expect(await connackCode(port, { username: 't:pc-1', password: credential })).toBe(0);
  });

  it('a one-time code works once, and only until it expires', async () => {
    await server.admin.addSubscriber({ subscriber: X });
    const { code } = await server.admin.issueCode(X, 60_000);
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    // People type codes: case and dashes do not matter.
    const typed = code.toLowerCase().replaceAll('-', '');
    const { key, terminalId } = await newTerminalIdentity();
    const reg = await TestTerminal.open(port, terminalId, 'reg', `${X}:${typed}`);
    const reply = await reg.request({
      type: 'register',
      subscriber: X,
      categories: ['mail'],
      terminalKey: key,
    });
    expect(reply.type).toBe('registered');
    expect(await connackCode(port, { username: 'reg:pc-2', password: `${X}:${code}` })).toBe(4);

    const late = await server.admin.issueCode(X, 60_000);
    clock += 60_001;
    expect(await connackCode(port, { username: 'reg:pc-2', password: `${X}:${late.code}` })).toBe(4);
  });

  it('consumes a code only when the registration succeeds', async () => {
    await server.admin.addSubscriber({ subscriber: X });
    await server.admin.addSubscriber({ subscriber: Y });
    const { code } = await server.admin.issueCode(X, undefined, 'pc-1');
    const reg = await TestTerminal.open(port, 'pc-1', 'reg', `${X}:${code}`);
    const wrong = await reg.request({ type: 'register', subscriber: Y, categories: [] });
    expect(wrong).toMatchObject({ type: 'error', code: 'bad-secret' });
    expect(await server.store.getTerminal('pc-1')).toBeUndefined();
    const right = await reg.request({ type: 'register', subscriber: X, categories: [] });
    expect(right.type).toBe('registered');
    const again = await reg.request({ type: 'register', subscriber: X, categories: [] });
    expect(again).toMatchObject({ type: 'error', code: 'bad-secret' });
  });

  it('FIG. 18/19: shop registration creates the pair without a terminal password; the terminal claims its credential with the shop code', async () => {
    const { code } = await server.admin.registerShop({
      terminalId: 'shop-phone',
      subscriber: X,
      iccid: '8988211000000430010',
      categories: ['contacts', 'application'],
    });
    expect(await server.admin.listTerminals(X)).toEqual([
      expect.objectContaining({
        terminalId: 'shop-phone',
        categories: ['contacts', 'application', 'rights'],
        hasTerminalPassword: false,
        hasCredential: false,
      }),
    ]);
    expect((await server.admin.listSubscribers())[0]).toMatchObject({
      subscriber: X,
      iccid: '8988211000000430010',
    });
    // The code is bound to that terminal.
    expect(await connackCode(port, { username: 'reg:other', password: `${X}:${code}` })).toBe(4);

    const reg = await TestTerminal.open(port, 'shop-phone', 'reg', `${X}:${code}`);
    const reply = await reg.request({
      type: 'register',
      subscriber: X,
      categories: ['contacts', 'application'],
    });
    expect(reply.type).toBe('registered');
    expect((await server.admin.listTerminals(X))[0]).toMatchObject({
      hasTerminalPassword: false,
      hasCredential: true,
    });
  });

  it('a new registration replaces the credential: the old one is refused and its connection closed', async () => {
    const old = await registerVia(server, 'pc-1', X);
    const online = await TestTerminal.open(port, 'pc-1', 't', old);
    const closed = online.waitClosed();
    const fresh = await registerVia(server, 'pc-1', X);
    await closed;
    expect(fresh).not.toBe(old);
    expect(await connackCode(port, { username: 't:pc-1', password: old })).toBe(4);
    expect(await connackCode(port, { username: 't:pc-1', password: fresh })).toBe(0);
  });

  it('refuses to register a terminal already registered to another subscriber, or revoked', async () => {
    await registerVia(server, 'pc-1', X);
    await server.admin.addSubscriber({ subscriber: Y });
    const { code } = await server.admin.issueCode(Y);
    expect(await connackCode(port, { username: 'reg:pc-1', password: `${Y}:${code}` })).toBe(5);
    await server.admin.revoke('pc-1');
    const forX = await server.admin.issueCode(X);
    expect(await connackCode(port, { username: 'reg:pc-1', password: `${X}:${forX.code}` })).toBe(5);
    await expect(server.admin.registerShop({ terminalId: 'pc-1', subscriber: X })).rejects.toMatchObject({
      kind: 'revoked',
    });
    // The refused attempts are in the owner's history.
    const refused = (await server.admin.history(X)).filter((e) => e.outcome === 'refused');
    expect(refused.map((e) => e.reason)).toContain('revoked');
  });

  it('takes register requests only on the reg channel', async () => {
    const credential = await registerVia(server, 'pc-1', X);
    const t = await TestTerminal.open(port, 'pc-1', 't', credential);
    const reply = await t.request({ type: 'register', subscriber: X, categories: [] });
    expect(reply).toMatchObject({ type: 'error', code: 'malformed' });
  });

  it('refuses bad operator input with typed errors', async () => {
    await expect(server.admin.addSubscriber({ subscriber: '12ab' })).rejects.toMatchObject({
      kind: 'invalid',
    });
    await expect(server.admin.issueCode(X)).rejects.toMatchObject({ kind: 'unknown-subscriber' });
    await expect(server.admin.revoke('nobody')).rejects.toMatchObject({ kind: 'unknown-terminal' });
    await expect(server.admin.registerShop({ terminalId: 'a/b', subscriber: X })).rejects.toMatchObject({
      kind: 'invalid',
    });
  });
});
