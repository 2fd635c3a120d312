import { describe, expect, it } from 'vitest';
import { categoryCode, type WireChange } from '../core/protocol/index.js';
import type { SyncServer } from './server.js';
import {
  bytes,
  connackCode,
  endClients,
  onlineTerminal,
  registerVia,
  serverEachTest,
  startTestServer,
  stopTestServer,
  TestTerminal,
  X,
  Y,
} from './test-support.js';

const C = categoryCode('contacts');
const M = categoryCode('mail');
const S = categoryCode('settings');
const T0 = 1_764_000_000_000;

describe('server-side sync (FIG. 13/14)', () => {
  let server: SyncServer;
  serverEachTest((started) => {
    server = started;
  });

  describe('[0009]: only a registered subscriber/terminal pair syncs', () => {
    it("refuses a stranger's SIM in a registered terminal, and changes nothing", async () => {
      const pc = await onlineTerminal(server, 'pc-1', X);
      await server.admin.addSubscriber({ subscriber: Y });
      const upload = await pc.request({
        type: 'upload',
        subscriber: Y,
        batch: 1,
        changes: [[C, 'a', 0, T0, bytes(1)]],
      });
      expect(upload).toMatchObject({ type: 'error', code: 'not-registered', req: 1 });
      for (const r of [
        await pc.request({ type: 'download', subscriber: Y, after: 0, maxBytes: 4096 }),
        await pc.request({ type: 'probe', subscriber: Y, after: 0 }),
        await pc.request({ type: 'set-categories', subscriber: Y, categories: ['mail'] }),
      ]) {
        expect(r).toMatchObject({ type: 'error', code: 'not-registered' });
      }
      expect(await server.store.latestSeq(Y)).toBe(0);
      expect(await server.store.latestSeq(X)).toBe(0);
      const seen = (await server.admin.history(X)).filter((e) => e.outcome === 'refused');
      expect(seen[0]).toMatchObject({
        subscriber: Y,
        terminalId: 'pc-1',
        terminalOwner: X,
        reason: expect.stringContaining('not-registered'),
      });
      expect((await server.admin.history(Y)).length).toBeGreaterThanOrEqual(3);
    });

    it("refuses a registered SIM in a stranger's terminal", async () => {
      await registerVia(server, 'pc-1', X);
      const stranger = await onlineTerminal(server, 'their-pc', Y);
      const r = await stranger.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [[C, 'a', 0, T0, bytes(1)]],
      });
      expect(r).toMatchObject({ type: 'error', code: 'not-registered' });
      expect(await server.store.latestSeq(X)).toBe(0);
    });

    it('refuses requests of a terminal revoked while its connection is still open (e.g. by another broker process)', async () => {
      const pc = await onlineTerminal(server, 'pc-1', X);
      const row = await server.store.getTerminal('pc-1');
      if (!row) throw new Error('not registered');
      await server.store.transaction((tx) => tx.putTerminal({ ...row, revoked: true }));
      const r = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [[C, 'a', 0, T0, bytes(1)]],
      });
      expect(r).toMatchObject({ type: 'error', code: 'revoked' });
      expect(await server.store.latestSeq(X)).toBe(0);
      expect((await server.admin.history(X)).at(-1)).toMatchObject({
        action: 'upload',
        outcome: 'refused',
        reason: expect.stringContaining('revoked'),
      });
    });

    it('refuses a revoked terminal at CONNECT, and closes it at once when revoked online', async () => {
      const credential = await registerVia(server, 'pc-1', X);
      const pc = await TestTerminal.open(server.port ?? 0, 'pc-1', 't', credential);
      const closed = pc.waitClosed();
      await server.admin.revoke('pc-1');
      await closed;
      expect(await connackCode(server.port ?? 0, { username: 't:pc-1', password: credential })).toBe(5);
      expect((await server.admin.listTerminals(X))[0]).toMatchObject({ revoked: true, online: false });
      expect((await server.admin.history(X)).map((e) => [e.action, e.reason])).toEqual(
        expect.arrayContaining([
          ['revoke', 'revoked by the operator'],
          ['connect', 'revoked'],
        ]),
      );
    });
  });

  describe('upload', () => {
    it('applies a batch once: a retry gets the same acknowledgement, an older batch is out of order', async () => {
      const pc = await onlineTerminal(server, 'pc-1', X);
      const changes: WireChange[] = [
        [C, 'a', 0, T0, bytes(1)],
        [M, 'm', 0, T0, bytes(2, 2)],
      ];
      const first = await pc.request({ type: 'upload', subscriber: X, batch: 5, changes });
      expect(first).toEqual({
        type: 'upload-ack',
        req: 1,
        batch: 5,
        seqs: [1, 2],
        issues: [],
        previous: 0,
        latest: 2,
      });
      const retry = await pc.request({ type: 'upload', subscriber: X, batch: 5, changes });
      expect(retry).toEqual({ ...first, req: 2 });
      expect(await server.store.latestSeq(X)).toBe(2);
      const old = await pc.request({ type: 'upload', subscriber: X, batch: 4, changes });
      expect(old).toMatchObject({ type: 'error', code: 'out-of-order', req: 3 });
      const next = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 6,
        changes: [[C, 'a', 1, T0 + 1, bytes(3)]],
      });
      expect(next).toMatchObject({ seqs: [3], issues: [], previous: 2, latest: 3 });
      const audit = (await server.admin.history(X)).filter((e) => e.action === 'upload');
      expect(audit.map((e) => [e.outcome, e.uploaded, e.uploadedBytes])).toEqual([
        ['accepted', 2, 3],
        ['accepted', 0, 0],
        ['refused', 0, 0],
        ['accepted', 1, 1],
      ]);
    });

    it("rejects changes outside the terminal's categories or over the record limit; the others are applied", async () => {
      await endClients();
      await stopTestServer(server);
      server = await startTestServer({ maxRecordBytes: 16 });
      const pc = await onlineTerminal(server, 'pc-1', X, ['contacts']);
      const ack = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [
          [S, 's', 0, T0, bytes(1)],
          [C, 'a', 0, T0, bytes(1)],
          [C, 'big', 0, T0, new Uint8Array(17)],
        ],
      });
      expect(ack).toMatchObject({
        type: 'upload-ack',
        seqs: [0, 1, 0],
        issues: [
          { index: 0, code: 'rejected', reason: expect.stringContaining('settings') },
          { index: 2, code: 'rejected', reason: expect.stringContaining('17 bytes') },
        ],
      });
      expect(await server.store.getRecord(X, 'settings', 's')).toBeUndefined();
    });

    it('[0060]: a deletion is a change like any other; deleting an unknown record is applied', async () => {
      const pc = await onlineTerminal(server, 'pc-1', X);
      await pc.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'a', 0, T0, bytes(1)]] });
      const del = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 2,
        changes: [
          [C, 'a', 1, T0 + 1, null],
          [C, 'never', 0, T0 + 1, null],
        ],
      });
      expect(del).toMatchObject({ seqs: [2, 3], issues: [] });
      const reader = await onlineTerminal(server, 'reader', X);
      const page = await reader.request({ type: 'download', subscriber: X, after: 0, maxBytes: 4096 });
      expect(page).toMatchObject({
        changes: [
          [C, 'a', 2, T0 + 1, null],
          [C, 'never', 3, T0 + 1, null],
        ],
        next: 3,
        more: false,
      });
    });

    it('[0044]/[0068]: a later edit wins a conflict; the losing version is kept as a copy', async () => {
      const pc = await onlineTerminal(server, 'pc-1', X);
      const phone = await onlineTerminal(server, 'phone-1', X);
      await pc.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'a', 0, T0, bytes(1)]] });
      // Both edit from base 1; the phone's edit is later.
      await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 2,
        changes: [[C, 'a', 1, T0 + 10, bytes(2)]],
      });
      const won = await phone.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [[C, 'a', 1, T0 + 20, bytes(3)]],
      });
      const copyOfPc = `a~conflict~pc-1~${T0 + 10}`;
      expect(won).toMatchObject({
        seqs: [3],
        issues: [{ index: 0, code: 'conflict-won', copyId: copyOfPc }],
        previous: 2,
        latest: 4,
      });
      expect((await server.store.getRecord(X, 'contacts', 'a'))?.body).toEqual(bytes(3));
      expect(await server.store.getRecord(X, 'contacts', copyOfPc)).toMatchObject({
        body: bytes(2),
        origin: 'pc-1',
        seq: 4,
      });

      // The pc edits again from the stale base 2 with an older clock: it loses.
      const lost = await pc.request({
        type: 'upload',
        subscriber: X,
        batch: 3,
        changes: [[C, 'a', 2, T0 + 15, bytes(4)]],
      });
      const copyOfLoser = `a~conflict~pc-1~${T0 + 15}`;
      expect(lost).toMatchObject({
        seqs: [0],
        issues: [
          { index: 0, code: 'conflict-lost', winner: [C, 'a', 3, T0 + 20, bytes(3)], copyId: copyOfLoser },
        ],
      });
      expect((await server.store.getRecord(X, 'contacts', 'a'))?.body).toEqual(bytes(3));
      expect((await server.store.getRecord(X, 'contacts', copyOfLoser))?.body).toEqual(bytes(4));
    });

    it('breaks an editedAt tie by the larger terminal ID, deterministically', async () => {
      const a = await onlineTerminal(server, 'term-a', X);
      const b = await onlineTerminal(server, 'term-b', X);
      await a.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'r', 0, T0, bytes(0)]] });
      await a.request({ type: 'upload', subscriber: X, batch: 2, changes: [[C, 'r', 1, T0 + 5, bytes(1)]] });
      const tie = await b.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [[C, 'r', 1, T0 + 5, bytes(2)]],
      });
      expect(tie).toMatchObject({
        issues: [{ code: 'conflict-won', copyId: `r~conflict~term-a~${T0 + 5}` }],
      });
      const back = await a.request({
        type: 'upload',
        subscriber: X,
        batch: 3,
        changes: [[C, 'r', 1, T0 + 5, bytes(9)]],
      });
      expect(back).toMatchObject({ seqs: [0], issues: [{ code: 'conflict-lost' }] });
    });
  });

  describe('download', () => {
    async function seed(server: SyncServer) {
      const writer = await onlineTerminal(server, 'writer', X, ['contacts', 'mail', 'settings']);
      await writer.request({
        type: 'upload',
        subscriber: X,
        batch: 1,
        changes: [
          [C, 'c1', 0, T0, new Uint8Array(600)],
          [S, 's1', 0, T0, new Uint8Array(600)],
          [C, 'c2', 0, T0, new Uint8Array(600)],
          [M, 'm1', 0, T0, new Uint8Array(600)],
          [C, 'c3', 0, T0, new Uint8Array(600)],
          [S, 's2', 0, T0, new Uint8Array(10)],
        ],
      });
      // c1 changes again: the download carries its latest state once.
      await writer.request({
        type: 'upload',
        subscriber: X,
        batch: 2,
        changes: [[C, 'c1', 1, T0 + 1, bytes(7)]],
      });
      return writer;
    }

    it('pages by body bytes, filtered by category, each record once in its latest state, ordered by seq', async () => {
      await seed(server);
      const reader = await onlineTerminal(server, 'reader', X, ['contacts', 'mail']);
      const p1 = await reader.request({ type: 'download', subscriber: X, after: 0, maxBytes: 1024 });
      expect(p1).toMatchObject({ type: 'changes', more: true, next: 3 });
      if (p1.type !== 'changes') return;
      expect(p1.changes.map((c) => [c[1], c[2]])).toEqual([['c2', 3]]);
      const p2 = await reader.request({ type: 'download', subscriber: X, after: p1.next, maxBytes: 1024 });
      expect(p2).toMatchObject({ more: true, next: 4 });
      const p3 = await reader.request({ type: 'download', subscriber: X, after: 4, maxBytes: 2048 });
      if (p3.type !== 'changes') throw new Error('expected changes');
      expect(p3.changes.map((c) => [c[1], c[2], c[4]?.length])).toEqual([
        ['c3', 5, 600],
        ['c1', 7, 1],
      ]);
      // The anchor moves past the filtered-out settings change s2 (seq 6).
      expect(p3).toMatchObject({ more: false, next: 7 });
      const empty = await reader.request({ type: 'download', subscriber: X, after: 7, maxBytes: 1024 });
      expect(empty).toMatchObject({ changes: [], next: 7, more: false });
    });

    it('always sends at least one change, however large', async () => {
      await seed(server);
      const reader = await onlineTerminal(server, 'reader', X, ['contacts']);
      const p = await reader.request({ type: 'download', subscriber: X, after: 2, maxBytes: 1024 });
      expect(p).toMatchObject({ more: true });
      if (p.type === 'changes') expect(p.changes).toHaveLength(1);
    });

    it('refuses an anchor past the latest seq as out of order', async () => {
      await seed(server);
      const reader = await onlineTerminal(server, 'reader', X);
      const r = await reader.request({ type: 'download', subscriber: X, after: 99, maxBytes: 1024 });
      expect(r).toMatchObject({ type: 'error', code: 'out-of-order' });
    });

    it('FIG. 15: set-categories stores the normalised selection and the next download follows it', async () => {
      await seed(server);
      const reader = await onlineTerminal(server, 'reader', X, ['mail']);
      const ok = await reader.request({
        type: 'set-categories',
        subscriber: X,
        categories: ['settings', 'application'],
      });
      expect(ok).toEqual({ type: 'ok', req: 1, categories: ['application', 'settings', 'rights'] });
      expect(
        (await server.admin.listTerminals(X)).find((t) => t.terminalId === 'reader')?.categories,
      ).toEqual(['application', 'settings', 'rights']);
      const p = await reader.request({ type: 'download', subscriber: X, after: 0, maxBytes: 65536 });
      if (p.type !== 'changes') throw new Error('expected changes');
      expect(p.changes.map((c) => c[1])).toEqual(['s1', 's2']);
    });

    it("[0043]: probe tells whether changes wait in the terminal's categories or one named category", async () => {
      await seed(server);
      const reader = await onlineTerminal(server, 'reader', X, ['contacts', 'mail']);
      expect(await reader.request({ type: 'probe', subscriber: X, after: 0 })).toEqual({
        type: 'probe-result',
        req: 1,
        latest: 7,
        pending: true,
      });
      expect(
        await reader.request({ type: 'probe', subscriber: X, after: 5, category: 'mail' }),
      ).toMatchObject({
        pending: false,
      });
      expect(
        await reader.request({ type: 'probe', subscriber: X, after: 5, category: 'contacts' }),
      ).toMatchObject({
        pending: true,
      });
      expect(await reader.request({ type: 'probe', subscriber: X, after: 7 })).toMatchObject({
        pending: false,
      });
    });
  });

  it("[0044]: an upload sends an updates notice to the subscriber's other terminals online that sync a changed category", async () => {
    const writer = await onlineTerminal(server, 'writer', X, ['contacts', 'mail']);
    const contactsReader = await onlineTerminal(server, 'reader-1', X, ['contacts']);
    const pimReader = await onlineTerminal(server, 'reader-2', X, ['pim']);
    const stranger = await onlineTerminal(server, 'stranger', Y, ['contacts', 'mail']);
    await writer.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [
        [C, 'a', 0, T0, bytes(1)],
        [M, 'm', 0, T0, bytes(1)],
      ],
    });
    expect(await contactsReader.waitNotice()).toEqual([
      { type: 'updates', latest: 2, categories: ['contacts'] },
    ]);
    // Barrier: the notices went out before the writer's ack, so any for these would come before their answers.
    await pimReader.request({ type: 'probe', subscriber: X, after: 0 });
    await stranger.request({ type: 'probe', subscriber: Y, after: 0 });
    await writer.request({ type: 'probe', subscriber: X, after: 0 });
    expect(pimReader.notices).toEqual([]);
    expect(stranger.notices).toEqual([]);
    expect(writer.notices).toEqual([]);
  });
});
