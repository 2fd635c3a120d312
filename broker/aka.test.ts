import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { categoryCode } from '../core/protocol/index.js';
import { answerChallenge, type ChallengeAnswer, Milenage, UsimSqnArray } from '../uicc/aka/index.js';
import { AkaVault, newServerKey, parseKeyring } from './aka-vault.js';
import type { Logger } from './logger.js';
import type { SyncServer } from './server.js';
import { openSqliteStore } from './store/sqlite-store.js';
import {
  endClients,
  onlineTerminal,
  startTestServer,
  stopTestServer,
  type TestTerminal,
  X,
  Y,
} from './test-support.js';

/**
 * The attacker's notebook for the card boundary (issue 19): the server asks
 * a subscriber with an AKA key for a fresh TS 33.102 §6.3 proof on every
 * connection. The "cards" here run the card side of uicc/aka/ (the code the
 * virtual UICC runs); K and OPc are TS 35.208 Test Set 1's.
 */

const K = Buffer.from('465b5ce8b199b49faa5f0a2ee238a6bc', 'hex');
const OPC = Buffer.from('cd63cb71954a9f4e48a5994e37a02baf', 'hex');
const C = categoryCode('contacts');

/** A card: its Milenage key and its Annex C.2 SQN array, answering as AUTHENTICATE would. */
class Card {
  readonly sqns: UsimSqnArray;
  constructor(
    readonly k: Uint8Array = K,
    readonly opc: Uint8Array = OPC,
    seqMs?: number[],
  ) {
    this.sqns = new UsimSqnArray(seqMs);
  }
  answer(rand: Uint8Array, autn: Uint8Array): ChallengeAnswer {
    return answerChallenge(new Milenage(this.k, this.opc), this.sqns, rand, autn);
  }
}

function vaultWith(...ids: string[]): AkaVault {
  const keys = Object.fromEntries(ids.map((id) => [id, newServerKey()]));
  return new AkaVault(parseKeyring(JSON.stringify({ current: ids[0], keys })));
}

/** Challenge, answer with `card`, send the answer; resolves the last reply. */
async function prove(t: TestTerminal, card: Card, subscriber = X) {
  let challenge = await t.request({ type: 'aka-challenge', subscriber });
  for (let round = 0; round < 2; round++) {
    if (challenge.type !== 'aka-challenge' || !challenge.rand || !challenge.autn) return challenge;
    const answer = card.answer(challenge.rand, challenge.autn);
    if (answer.status === 'mac-failure') return answer;
    if (answer.status === 'ok') return t.request({ type: 'aka-response', subscriber, res: answer.res });
    challenge = await t.request({ type: 'aka-response', subscriber, auts: answer.auts });
  }
  return challenge;
}

/** X with Test Set 1's K and OPc. */
async function keyFor(server: SyncServer): Promise<void> {
  await server.admin.addSubscriber({ subscriber: X });
  await server.admin.setAkaKey({ subscriber: X, k: K.toString('hex'), opc: OPC.toString('hex') });
}

const upload = (t: TestTerminal, batch: number, id: string, subscriber = X) =>
  t.request({ type: 'upload', subscriber, batch, changes: [[C, id, 0, Date.now(), new Uint8Array([1])]] });

describe('AKA: the SIM proves itself to the server at every connection (TS 33.102 §6.3, issue 19)', () => {
  let server: SyncServer;

  beforeEach(async () => {
    server = await startTestServer({ akaVault: vaultWith('k1') });
  });
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  it('a subscriber without an AKA key is served as before; its challenge has no RAND', async () => {
    const t = await onlineTerminal(server, 'plain-1', Y);
    expect(await t.request({ type: 'aka-challenge', subscriber: Y })).toEqual({
      type: 'aka-challenge',
      req: 1,
    });
    expect((await upload(t, 1, 'a', Y)).type).toBe('upload-ack');
  });

  it('with a key: nothing is served before the proof, everything after it', async () => {
    await keyFor(server);
    const fresh = await onlineTerminal(server, 'pc-3', X);
    for (const refused of [
      await upload(fresh, 1, 'a'),
      await fresh.request({ type: 'download', subscriber: X, after: 0, maxBytes: 1 << 20 }),
      await fresh.request({ type: 'probe', subscriber: X, after: 0 }),
    ]) {
      expect(refused).toMatchObject({ type: 'error', code: 'aka-required' });
    }
    expect(await prove(fresh, new Card())).toMatchObject({ type: 'ok' });
    expect((await upload(fresh, 1, 'a')).type).toBe('upload-ack');
    const history = await server.store.history(X);
    expect(history.some((h) => h.outcome === 'refused' && h.reason?.startsWith('aka-required'))).toBe(true);
  });

  it('a cloned IMSI on a card with another K: the card refuses the challenge, and a guessed RES closes the connection', async () => {
    await keyFor(server);
    const clone = new Card(randomBytes(16), randomBytes(16));
    const t = await onlineTerminal(server, 'thief-1', X);
    // The clone's K makes another MAC: to it the challenge is not its network's (§6.3.3).
    expect(await prove(t, clone)).toEqual({ status: 'mac-failure' });
    // The thief answers anyway, with what it has: a RES of its own K, or random bytes.
    const closed = t.waitClosed();
    const guess = await t.request({ type: 'aka-response', subscriber: X, res: randomBytes(8) });
    expect(guess).toMatchObject({ type: 'error', code: 'aka-failed' });
    await closed;
    // A new connection is as unproven as the first.
    const again = await onlineTerminal(server, 'thief-2', X);
    expect(await upload(again, 1, 'x')).toMatchObject({ type: 'error', code: 'aka-required' });
    expect(await server.store.getRecord(X, 'contacts', 'x')).toBeUndefined();
  });

  it('a replayed RES is refused: on the same connection once used, on a new one for the new RAND', async () => {
    await keyFor(server);
    const card = new Card();
    const t = await onlineTerminal(server, 'pc-1', X);
    const challenge = await t.request<'aka-challenge'>({ type: 'aka-challenge', subscriber: X });
    const answer = card.answer(challenge.rand as Uint8Array, challenge.autn as Uint8Array);
    if (answer.status !== 'ok') throw new Error(`card refused: ${answer.status}`);
    expect(await t.request({ type: 'aka-response', subscriber: X, res: answer.res })).toMatchObject({
      type: 'ok',
    });
    // The same answer a second time: no challenge waits for it.
    const closed = t.waitClosed();
    expect(await t.request({ type: 'aka-response', subscriber: X, res: answer.res })).toMatchObject({
      code: 'aka-failed',
    });
    await closed;
    // Recorded and played on a new connection: the server's new RAND wants another RES.
    const eavesdropper = await onlineTerminal(server, 'pc-2', X);
    const fresh = await eavesdropper.request<'aka-challenge'>({ type: 'aka-challenge', subscriber: X });
    expect(Buffer.from(fresh.rand as Uint8Array).equals(Buffer.from(challenge.rand as Uint8Array))).toBe(
      false,
    );
    expect(
      await eavesdropper.request({ type: 'aka-response', subscriber: X, res: answer.res }),
    ).toMatchObject({
      code: 'aka-failed',
    });
    // And the old challenge played to the card again is stale to it (Annex C.2): replay toward the card fails too.
    expect(card.answer(challenge.rand as Uint8Array, challenge.autn as Uint8Array).status).toBe(
      'sync-failure',
    );
  });

  it('SQN resync: a card whose counter moved ahead sends AUTS; the server catches up and the next challenge is fresh', async () => {
    await keyFor(server);
    // The card was used elsewhere (another HLR, a test network): SEQ_MS = 5000 in every entry.
    const card = new Card(K, OPC, new Array(32).fill(5000));
    const t = await onlineTerminal(server, 'pc-1', X);
    expect(await prove(t, card)).toMatchObject({ type: 'ok' });
    expect((await server.store.getAka(X))?.sqn).toBeGreaterThan(5000 * 32);
    expect((await upload(t, 1, 'a')).type).toBe('upload-ack');
  });

  it('a forged AUTS is refused and moves nothing', async () => {
    await keyFor(server);
    const t = await onlineTerminal(server, 'pc-1', X);
    await t.request({ type: 'aka-challenge', subscriber: X });
    const before = (await server.store.getAka(X))?.sqn;
    const closed = t.waitClosed();
    expect(await t.request({ type: 'aka-response', subscriber: X, auts: randomBytes(14) })).toMatchObject({
      code: 'aka-failed',
    });
    await closed;
    expect((await server.store.getAka(X))?.sqn).toBe(before);
  });

  it('malformed answers are refused at the door: both RES and AUTS, a 3-byte RES, a 13-byte AUTS', async () => {
    await keyFor(server);
    const t = await onlineTerminal(server, 'pc-1', X);
    const challenge = await t.request<'aka-challenge'>({ type: 'aka-challenge', subscriber: X });
    for (const bad of [
      { res: randomBytes(8), auts: randomBytes(14) },
      { res: randomBytes(3) },
      { auts: randomBytes(13) },
      {},
    ]) {
      expect(await t.request({ type: 'aka-response', subscriber: X, ...bad } as never)).toMatchObject({
        type: 'error',
        code: 'malformed',
      });
    }
    // None of them used up the challenge: the card's answer to it still proves the connection.
    const answer = new Card().answer(challenge.rand as Uint8Array, challenge.autn as Uint8Array);
    if (answer.status !== 'ok') throw new Error(`card refused: ${answer.status}`);
    expect(await t.request({ type: 'aka-response', subscriber: X, res: answer.res })).toMatchObject({
      type: 'ok',
    });
  });

  it("another subscriber's terminal cannot ask for X's challenge", async () => {
    await keyFor(server);
    const t = await onlineTerminal(server, 'y-1', Y);
    const before = (await server.store.getAka(X))?.sqn;
    expect(await t.request({ type: 'aka-challenge', subscriber: X })).toMatchObject({
      type: 'error',
      code: 'not-registered',
    });
    expect((await server.store.getAka(X))?.sqn).toBe(before);
  });
});

describe('AKA keys at rest (broker/aka-vault.ts)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'simsync-aka-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('K and OPc are in neither the database files nor the log, in binary or hex', async () => {
    const lines: string[] = [];
    const capture = (level: string) => (obj: unknown, msg?: string) =>
      lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`);
    const logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
      child: () => logger,
    } as unknown as Logger;
    const store = openSqliteStore(join(dir, 'simsync.db'));
    const server = await startTestServer({ store, logger, akaVault: vaultWith('k1') });
    try {
      await keyFor(server);
      const t = await onlineTerminal(server, 'pc-1', X);
      expect(await prove(t, new Card())).toMatchObject({ type: 'ok' });
      await t.end();
    } finally {
      await endClients();
      await stopTestServer(server);
    }
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    expect(files.length).toBeGreaterThan(0);
    for (const secret of [K, OPC]) {
      for (const file of files) {
        expect(file.includes(secret)).toBe(false);
        expect(file.includes(Buffer.from(secret.toString('hex')))).toBe(false);
        expect(file.includes(Buffer.from(secret.toString('hex').toUpperCase()))).toBe(false);
      }
      expect(lines.join('\n')).not.toContain(secret.toString('hex'));
    }
    expect(lines.some((l) => l.includes('AKA key saved'))).toBe(true);
  });

  it('a sealed key opens only for its subscriber, under its server key; tampering is caught', () => {
    const vault = vaultWith('k1');
    const { keyId, sealed } = vault.seal(X, { k: K, opc: OPC });
    expect(Buffer.from(vault.open(X, keyId, sealed).k).equals(K)).toBe(true);
    // Copied onto another subscriber's row: the additional data differs.
    expect(() => vault.open(Y, keyId, sealed)).toThrow(expect.objectContaining({ kind: 'damaged' }));
    // A stolen database without the key file: another vault's key opens nothing.
    expect(() => vaultWith('k1').open(X, keyId, sealed)).toThrow(
      expect.objectContaining({ kind: 'damaged' }),
    );
    for (let i = 0; i < sealed.length; i++) {
      const flipped = sealed.slice();
      flipped[i] = (flipped[i] ?? 0) ^ 0x01;
      expect(() => vault.open(X, keyId, flipped)).toThrow(expect.objectContaining({ kind: 'damaged' }));
    }
    expect(() => vault.open(X, 'gone', sealed)).toThrow(expect.objectContaining({ kind: 'unknown-key' }));
  });

  it('rotation re-seals every key under the current server key; the old key can then go', async () => {
    const old = newServerKey();
    const first = new AkaVault(parseKeyring(JSON.stringify({ current: 'old', keys: { old } })));
    const server = await startTestServer({ akaVault: first });
    await server.admin.addSubscriber({ subscriber: X });
    await server.admin.setAkaKey({
      subscriber: X,
      k: K.toString('hex'),
      op: 'cdc202d5123e20f62b6d676ac72cb318',
    });
    await server.close();
    const fresh = newServerKey();
    const both = new AkaVault(parseKeyring(JSON.stringify({ current: 'new', keys: { old, new: fresh } })));
    const rotated = await startTestServer({ store: server.store, akaVault: both });
    try {
      expect(await rotated.admin.rotateAkaKeys()).toBe(1);
      expect(await rotated.admin.rotateAkaKeys()).toBe(0);
      const row = await rotated.store.getAka(X);
      expect(row?.keyId).toBe('new');
      const onlyNew = new AkaVault(parseKeyring(JSON.stringify({ current: 'new', keys: { new: fresh } })));
      // OP given, OPc derived (TS 35.206 §4.1): Test Set 1's OPc.
      expect(Buffer.from(onlyNew.open(X, 'new', row?.sealed as Uint8Array).opc).equals(OPC)).toBe(true);
    } finally {
      await stopTestServer(rotated);
    }
  });

  it('the key file is checked whole: bad JSON, a short key, a current key not in the file', () => {
    for (const text of [
      'not json',
      JSON.stringify({ current: 'a', keys: { a: 'abcd' } }),
      JSON.stringify({ current: 'b', keys: { a: newServerKey() } }),
      JSON.stringify({ current: 'a b', keys: { 'a b': newServerKey() } }),
      JSON.stringify([]),
    ]) {
      expect(() => parseKeyring(text)).toThrow(expect.objectContaining({ kind: 'bad-keyring' }));
    }
  });
});
