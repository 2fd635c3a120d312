import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthFailureReason } from '../../broker/access.js';
import { DEFAULT_ATTEMPT_LIMITS } from '../../broker/attempt-limits.js';
import { ServerMetrics } from '../../broker/metrics.js';
import { type SyncServer, startSyncServer } from '../../broker/server.js';
import { openSqliteStore } from '../../broker/store/sqlite-store.js';
import {
  connackCode,
  endClients,
  onlineTerminal,
  startTestServer,
  stopTestServer,
  within,
} from '../../broker/test-support.js';

/**
 * Attacker's notebook, server side (issue 13): guessing secrets at CONNECT,
 * and what the operator's revoke does to a connection in another process.
 * These servers run with the shipped attempt limits (attempt-limits.ts) and a
 * virtual clock, so back-off and lockout are exact.
 */

const S1 = '001010000000102';
const S2 = '228062800000208';
const LOGIN = 'the right login password';
/** CONNACK 3, server unavailable: refused before any secret was checked. */
const REFUSED = 3;
const WRONG = 4;

describe('attacks by guessing (issue 13: attempt limits)', () => {
  let server: SyncServer;
  let clock = 1_764_000_000_000;
  let failures: AuthFailureReason[] = [];
  let metrics: ServerMetrics;

  async function start(): Promise<number> {
    clock = 1_764_000_000_000;
    failures = [];
    metrics = new ServerMetrics();
    server = await startTestServer({
      now: () => clock,
      attemptLimits: {},
      onAuthFailure: (reason) => {
        failures.push(reason);
        metrics.authFailures.inc({ reason });
      },
    });
    await server.admin.addSubscriber({ subscriber: S1, loginPassword: LOGIN });
    return server.port ?? 0;
  }
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  it("guessing a subscriber's login password: after 5 wrong ones every guess is refused unchecked, the right one too, until the back-off ends", async () => {
    const port = await start();
    const guess = (secret: string) =>
      connackCode(port, { username: 'reg:guessing', password: `${S1}:${secret}` });
    for (let i = 0; i < DEFAULT_ATTEMPT_LIMITS.freeFailures; i++)
      expect(await guess(`wrong ${i}`)).toBe(WRONG);
    const flood = [];
    for (let i = 0; i < 50; i++) flood.push(await guess(`wrong again ${i}`));
    expect(new Set(flood)).toEqual(new Set([REFUSED]));
    expect(await guess(LOGIN)).toBe(REFUSED);
    expect(failures.filter((r) => r === 'bad-secret')).toHaveLength(DEFAULT_ATTEMPT_LIMITS.freeFailures);
    expect(failures.filter((r) => r === 'throttled')).toHaveLength(51);

    const counted = await metrics.registry.getSingleMetricAsString('simsync_auth_failures_total');
    expect(counted).toContain('simsync_auth_failures_total{reason="throttled"} 51');

    clock += DEFAULT_ATTEMPT_LIMITS.baseDelayMs;
    expect(await guess(LOGIN)).toBe(0);
  });

  it('keeping on guessing, paced to every back-off, ends in a lockout written to the audit log', async () => {
    const port = await start();
    const guess = (secret: string) =>
      connackCode(port, { username: 'reg:guessing', password: `${S1}:${secret}` });
    const { lockoutAfter, maxDelayMs, lockoutMs } = DEFAULT_ATTEMPT_LIMITS;
    for (let i = 0; i < lockoutAfter; i++) {
      expect(await guess(`wrong ${i}`)).toBe(WRONG);
      clock += maxDelayMs;
    }
    expect(await guess(LOGIN)).toBe(REFUSED);
    const lockouts = (await server.admin.history(S1)).filter((e) => e.reason?.startsWith('locked-out'));
    expect(lockouts.length).toBeGreaterThan(0);
    clock += lockoutMs;
    expect(await guess(LOGIN)).toBe(0);
  });

  it('a burst of 40 guesses in parallel gets at most two checked at a time, and the burst counts', async () => {
    const port = await start();
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        connackCode(port, { username: 'reg:burst', password: `${S1}:wrong ${i}` }),
      ),
    );
    const checked = failures.filter((r) => r === 'bad-secret').length;
    expect(checked).toBeLessThanOrEqual(DEFAULT_ATTEMPT_LIMITS.freeFailures + 2);
    expect(burst.filter((c) => c === REFUSED)).toHaveLength(40 - checked);
  });

  it('enumerating subscribers from one address is limited by the address, whatever IMSIs are tried', async () => {
    const port = await start();
    const answers = [];
    for (let i = 0; i < 20; i++) {
      const imsi = `00101000000${String(1000 + i)}`;
      answers.push(await connackCode(port, { username: 'reg:enum', password: `${imsi}:guess` }));
    }
    expect(answers.slice(0, DEFAULT_ATTEMPT_LIMITS.freeFailures)).toEqual(
      Array(DEFAULT_ATTEMPT_LIMITS.freeFailures).fill(WRONG),
    );
    expect(new Set(answers.slice(DEFAULT_ATTEMPT_LIMITS.freeFailures))).toEqual(new Set([REFUSED]));
    // An unknown subscriber and a wrong secret answer alike.
    expect(failures.slice(0, DEFAULT_ATTEMPT_LIMITS.freeFailures)).toEqual(
      Array(DEFAULT_ATTEMPT_LIMITS.freeFailures).fill('unknown-subscriber'),
    );
  });

  it("guessing a terminal's connection credential: 2,000 tries become 5 checked ones", async () => {
    const port = await start();
    await server.admin.addSubscriber({ subscriber: S2 });
    const victim = await onlineTerminal(server, 'victim-pc', S1);
    await victim.end();
    let refusedUnchecked = 0;
    for (let i = 0; i < 2000; i++) {
      const code = await connackCode(port, { username: 't:victim-pc', password: 'x'.repeat(43) });
      if (code === REFUSED) refusedUnchecked++;
      if (i === 40) break;
    }
    expect(failures.filter((r) => r === 'bad-credential')).toHaveLength(DEFAULT_ATTEMPT_LIMITS.freeFailures);
    expect(refusedUnchecked).toBe(41 - DEFAULT_ATTEMPT_LIMITS.freeFailures);
  });
});

describe('attacks that outlive a revoke (issue 13 item 6)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('`simsync admin revoke` from another process closes the live connection of the revoked terminal', async () => {
    dir = mkdtempSync(join(tmpdir(), 'simsync-revoke-'));
    const store = openSqliteStore(dir);
    const server = await startSyncServer({ store, host: '127.0.0.1', port: 0, revocationPollMs: 100 });
    try {
      await server.admin.addSubscriber({ subscriber: S1 });
      const stolen = await onlineTerminal(server, 'stolen-phone', S1);
      const closed = stolen.waitClosed();
      await promisify(execFile)(process.execPath, [
        'bin/simsync.js',
        'admin',
        'revoke',
        '--data',
        dir,
        '--terminal',
        'stolen-phone',
      ]);
      await within(closed, 'the revoked terminal to be disconnected', 3000);
    } finally {
      await endClients();
      await server.close();
      await store.close();
    }
  });

  it("the server's database is readable by its owner only", async () => {
    dir = mkdtempSync(join(tmpdir(), 'simsync-mode-'));
    const data = join(dir, 'srv');
    const store = openSqliteStore(join(data, 'simsync.db'));
    await store.close();
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(statSync(join(data, 'simsync.db')).mode & 0o777).toBe(0o600);
  });
});
