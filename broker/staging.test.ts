import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { categoryCode, MAX_UPLOAD_PART_BYTES, type WireChange } from '../core/protocol/index.js';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres.js';
import type { SyncServer } from './server.js';
import { openPostgresStore } from './store/postgres-store.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { SyncStore } from './store/sync-store.js';
import { DEFAULT_STAGING_TTL_MS } from './sync/staging.js';
import {
  endClients,
  onlineTerminal,
  startTestServer,
  stopTestServer,
  type TestTerminal,
  X,
} from './test-support.js';

const C = categoryCode('contacts');
const T0 = 1_764_000_000_000;
const KIB = 1024;

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const photo = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed + (i >> 9)) % 256);
/** Byte arrays compared as one string: vitest compares them element by element, slowly. */
const latin1 = (b: Uint8Array | null | undefined) => (b ? new TextDecoder('latin1').decode(b) : b);

/** The part of `body` from `offset`, as a terminal sends it. */
function part(id: string, body: Uint8Array, offset: number, length: number, hash = sha256(body)) {
  return {
    type: 'upload-part' as const,
    subscriber: X,
    category: 'contacts' as const,
    id,
    offset,
    size: body.length,
    hash,
    bytes: body.subarray(offset, offset + length),
  };
}

/** Sends all of `body` in parts of `step` bytes; the last reply. */
async function sendAll(pc: TestTerminal, id: string, body: Uint8Array, step = 100 * KIB, from = 0) {
  let reply: Awaited<ReturnType<TestTerminal['request']>> | undefined;
  for (let at = from; at < body.length; at += step) reply = await pc.request(part(id, body, at, step));
  return reply;
}

/** An upload change that names a staged body by its stub ([0094]). */
const staged = (id: string, body: Uint8Array, base = 0): WireChange => [
  C,
  id,
  base,
  T0,
  new Uint8Array(0),
  { stub: { size: body.length, hash: sha256(body) } },
];

let cluster: TestPostgres | undefined;
beforeAll(async () => {
  cluster = await startTestPostgres();
}, 600_000);
afterAll(() => cluster?.stop());

/** The same behaviour on both stores (STYLE.md §12): the staging's rules live above the store. */
const STORES: [string, () => Promise<SyncStore>][] = [
  ['SQLite', async () => openSqliteStore(':memory:')],
  ['PostgreSQL', async () => openPostgresStore(await (cluster as TestPostgres).createDatabase())],
];

describe.each(STORES)(
  '[0094] upload in parts, on %s: the server stages a body until an upload names it',
  (_, open) => {
    let server: SyncServer;
    let clock = T0;

    async function start(options: Parameters<typeof startTestServer>[0] = {}) {
      clock = T0;
      server = await startTestServer({ now: () => clock, store: await open(), ...options });
      return onlineTerminal(server, 'pc-1', X, ['contacts']);
    }

    afterEach(async () => {
      await endClients();
      await stopTestServer(server);
    });

    it('takes parts in order and applies the body like any change once an upload names it: seq, ack, retry', async () => {
      const pc = await start();
      const body = photo(300 * KIB);
      const acks = [];
      for (let at = 0; at < body.length; at += 100 * KIB)
        acks.push(await pc.request(part('ann', body, at, 100 * KIB)));
      expect(acks).toMatchObject([
        { type: 'part-ack', got: 100 * KIB },
        { type: 'part-ack', got: 200 * KIB },
        { type: 'part-ack', got: 300 * KIB },
      ]);
      const upload = {
        type: 'upload' as const,
        subscriber: X,
        batch: 1,
        changes: [staged('ann', body), [C, 'bob', 0, T0, new Uint8Array([1])] as WireChange],
      };
      const ack = await pc.request(upload);
      expect(ack).toMatchObject({ type: 'upload-ack', seqs: [1, 2], issues: [], previous: 0, latest: 2 });
      const stored = await server.store.getRecord(X, 'contacts', 'ann');
      expect(stored?.meta).toBeUndefined();
      expect(latin1(stored?.body)).toBe(latin1(body));
      // Retried (the ack was lost): answered from the stored ack, applied once, though the staging is gone.
      expect(await pc.request(upload)).toMatchObject({ type: 'upload-ack', seqs: [1, 2], latest: 2 });
      expect(await server.store.latestSeq(X)).toBe(2);
      expect(await pc.request({ ...part('ann', body, 0, 0) })).toMatchObject({ type: 'part-ack', got: 0 });
      const audit = (await server.admin.history(X)).filter((e) => e.action === 'upload-part');
      expect(audit.reduce((n, e) => n + e.uploadedBytes, 0)).toBe(body.length);
    });

    it('an empty part asks how far the server got; a part anywhere else is refused out-of-order and stores nothing', async () => {
      const pc = await start();
      const body = photo(250 * KIB);
      expect(await pc.request(part('ann', body, 0, 0))).toMatchObject({ type: 'part-ack', got: 0 });
      expect(await pc.request(part('ann', body, 100 * KIB, 100 * KIB))).toMatchObject({
        type: 'error',
        code: 'out-of-order',
        message: expect.stringContaining('holds 0 bytes'),
      });
      await pc.request(part('ann', body, 0, 100 * KIB));
      // A part resent after a cut (its ack lost) is refused; the terminal asks, then goes on from there.
      expect(await pc.request(part('ann', body, 0, 100 * KIB))).toMatchObject({ code: 'out-of-order' });
      expect(await pc.request(part('ann', body, 200 * KIB, 50 * KIB))).toMatchObject({
        code: 'out-of-order',
      });
      expect(await pc.request(part('ann', body, 0, 0))).toMatchObject({ got: 100 * KIB });
      expect(await sendAll(pc, 'ann', body, 100 * KIB, 100 * KIB)).toMatchObject({ got: 250 * KIB });
      expect(
        await pc.request({ type: 'upload', subscriber: X, batch: 1, changes: [staged('ann', body)] }),
      ).toMatchObject({ seqs: [1], issues: [] });
      expect(latin1((await server.store.getRecord(X, 'contacts', 'ann'))?.body)).toBe(latin1(body));
    });

    it('refuses parts that do not match their SHA-256 once complete, and keeps none of them', async () => {
      const pc = await start();
      const body = photo(200 * KIB);
      const wrong = sha256(photo(200 * KIB, 2));
      expect(await pc.request(part('ann', body, 0, 100 * KIB, wrong))).toMatchObject({ got: 100 * KIB });
      expect(await pc.request(part('ann', body, 100 * KIB, 100 * KIB, wrong))).toMatchObject({
        type: 'error',
        code: 'rejected',
        message: expect.stringContaining('SHA-256'),
      });
      expect(await pc.request(part('ann', body, 0, 0, wrong))).toMatchObject({ got: 0 });
      const ack = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [[C, 'ann', 0, T0, new Uint8Array(0), { stub: { size: body.length, hash: wrong } }]],
      });
      expect(ack).toMatchObject({ seqs: [0], issues: [{ index: 0, code: 'not-staged' }] });
      expect(await server.store.getRecord(X, 'contacts', 'ann')).toBeUndefined();
    });

    it("refuses a record larger than the server's maximum at its first part, and one outside the terminal's categories", async () => {
      const pc = await start({ maxRecordBytes: 256 * KIB });
      const body = photo(256 * KIB + 1);
      expect(await pc.request(part('ann', body, 0, 100 * KIB))).toMatchObject({
        type: 'error',
        code: 'too-large',
        message: `record of ${256 * KIB + 1} bytes exceeds the server's maximum of ${256 * KIB}`,
      });
      const mail = photo(1000);
      expect(await pc.request({ ...part('m', mail, 0, 1000), category: 'mail' })).toMatchObject({
        code: 'rejected',
        message: expect.stringContaining('mail'),
      });
      const fits = photo(256 * KIB);
      expect(await sendAll(pc, 'ann', fits)).toMatchObject({ type: 'part-ack', got: 256 * KIB });
    });

    it('a staging left alone expires: its bytes are gone, an upload naming it is answered not-staged, the rest applies', async () => {
      const pc = await start();
      const body = photo(200 * KIB);
      await sendAll(pc, 'ann', body);
      clock += DEFAULT_STAGING_TTL_MS;
      expect(await pc.request(part('ann', body, 0, 0))).toMatchObject({ got: 0 });
      const ack = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [staged('ann', body), [C, 'bob', 0, T0, new Uint8Array([1])]],
      });
      expect(ack).toMatchObject({
        seqs: [0, 1],
        issues: [{ index: 0, code: 'not-staged', reason: expect.stringContaining('upload its parts again') }],
      });
      // The next staging started anywhere sweeps the expired ones out of the store.
      await server.store.transaction(async (tx) => {
        expect(
          await tx.getStaging({ terminalId: 'pc-1', category: 'contacts', recordId: 'ann' }),
        ).toBeDefined();
      });
      const other = await onlineTerminal(server, 'ph-2', X, ['contacts']);
      await other.request(part('cid', photo(1000), 0, 1000));
      await server.store.transaction(async (tx) => {
        expect(
          await tx.getStaging({ terminalId: 'pc-1', category: 'contacts', recordId: 'ann' }),
        ).toBeUndefined();
      });
    });

    it('a part resent within the time to live keeps the staging alive past the first deadline', async () => {
      const pc = await start();
      const body = photo(200 * KIB);
      await pc.request(part('ann', body, 0, 100 * KIB));
      clock += DEFAULT_STAGING_TTL_MS - 1;
      expect(await pc.request(part('ann', body, 100 * KIB, 100 * KIB))).toMatchObject({ got: 200 * KIB });
      clock += DEFAULT_STAGING_TTL_MS - 1;
      const ack = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [staged('ann', body)],
      });
      expect(ack).toMatchObject({ seqs: [1], issues: [] });
    });

    it('a terminal stages one body at a time, and a newer version of a record starts afresh', async () => {
      const pc = await start();
      const first = photo(200 * KIB);
      await sendAll(pc, 'ann', first);
      const second = photo(150 * KIB, 3);
      await pc.request(part('bob', second, 0, 100 * KIB));
      expect(await pc.request(part('ann', first, 0, 0))).toMatchObject({ got: 0 });
      const edited = photo(150 * KIB, 4);
      expect(await pc.request(part('bob', edited, 0, 0))).toMatchObject({ got: 0 });
      expect(await sendAll(pc, 'bob', edited)).toMatchObject({ got: 150 * KIB });
      const ack = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [staged('bob', second), staged('bob', edited)],
      });
      expect(ack).toMatchObject({ seqs: [0, 1], issues: [{ index: 0, code: 'not-staged' }] });
      expect(latin1((await server.store.getRecord(X, 'contacts', 'bob'))?.body)).toBe(latin1(edited));
    });

    it('[0068]: a staged body that conflicts with another terminal is resolved like any change, nothing lost', async () => {
      const pc = await start();
      const phone = await onlineTerminal(server, 'ph-2', X, ['contacts']);
      await phone.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [[C, 'ann', 0, T0 + 5, new Uint8Array([9])]],
      });
      const body = photo(200 * KIB);
      await sendAll(pc, 'ann', body);
      const ack = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [
          [C, 'ann', 0, T0 + 9, new Uint8Array(0), { stub: { size: body.length, hash: sha256(body) } }],
        ],
      });
      expect(ack).toMatchObject({
        seqs: [2],
        issues: [{ index: 0, code: 'conflict-won', copyId: expect.any(String) }],
      });
      expect(latin1((await server.store.getRecord(X, 'contacts', 'ann'))?.body)).toBe(latin1(body));
    });

    it('refuses a change that names a staged body yet carries one, and a part larger than the protocol allows', async () => {
      const pc = await start();
      const body = photo(200 * KIB);
      await sendAll(pc, 'ann', body);
      const ack = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [
          [C, 'ann', 0, T0, new Uint8Array([1]), { stub: { size: body.length, hash: sha256(body) } }],
        ],
      });
      expect(ack).toMatchObject({
        seqs: [0],
        issues: [{ code: 'rejected', reason: expect.stringContaining('empty') }],
      });
      // Over the schema's bound: malformed; over the kind's byte limit (codec.ts): refused while read.
      const big = photo(MAX_UPLOAD_PART_BYTES + 1);
      expect(await pc.request(part('big', big, 0, big.length))).toMatchObject({
        type: 'error',
        code: 'malformed',
      });
      const bigger = photo(MAX_UPLOAD_PART_BYTES + 2 * KIB);
      expect(await pc.request(part('big', bigger, 0, bigger.length))).toMatchObject({
        type: 'error',
        code: 'too-large',
        message: expect.stringContaining('upload-part message over its limits'),
      });
    });

    it('[0094]: a body no download page could carry comes down as a stub, even to a terminal that asked for none', async () => {
      const pc = await start({ maxMessageBytes: 256 * KIB });
      const body = photo(300 * KIB);
      await sendAll(pc, 'ann', body);
      await pc.request({ type: 'upload', subscriber: X, batch: 1, changes: [staged('ann', body)] });
      const phone = await onlineTerminal(server, 'phone-1', X, ['contacts']);
      const page = await phone.request({ type: 'download', subscriber: X, after: 0, maxBytes: 64 * KIB });
      expect(page).toMatchObject({
        type: 'changes',
        changes: [[C, 'ann', 1, T0, new Uint8Array(0), { stub: { size: body.length, hash: sha256(body) } }]],
      });
      const range = await phone.request({
        type: 'fetch',
        subscriber: X,
        category: 'contacts',
        id: 'ann',
        seq: 1,
        offset: 200 * KIB,
        length: 100 * KIB,
      });
      expect(range).toMatchObject({ type: 'substance', offset: 200 * KIB, size: body.length });
    });
  },
);
