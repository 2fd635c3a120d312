import { describe, expect, it } from 'vitest';
import { categoryCode } from '../core/protocol/index.js';
import type { SyncServer } from './server.js';
import { bytes, onlineTerminal, registerVia, serverEachTest, TestTerminal, X } from './test-support.js';

const C = categoryCode('contacts');
const T0 = 1_764_000_000_000;

describe('the sync audit log (FIG. 13/14: who, when, which terminal, what)', () => {
  let server: SyncServer;
  serverEachTest((started) => {
    server = started;
  });

  const lines = async (terminalId: string, action: string) =>
    (await server.admin.history(X)).filter((e) => e.terminalId === terminalId && e.action === action);

  it('has a line for every accepted connection, on reg with how it proved itself', async () => {
    await server.admin.addSubscriber({ subscriber: X, loginPassword: 'login-pw' });
    const reg = await TestTerminal.open(server.port ?? 0, 'pc-1', 'reg', `${X}:login-pw`);
    await reg.end();
    const credential = await registerVia(server, 'pc-1', X);
    const t = await TestTerminal.open(server.port ?? 0, 'pc-1', 't', credential);
    expect((await t.request({ type: 'probe', subscriber: X, after: 0 })).type).toBe('probe-result');

    expect((await lines('pc-1', 'connect')).map((e) => [e.outcome, e.subscriber, e.reason])).toEqual([
      ['accepted', X, 'reg: login password'],
      ['accepted', X, 'reg: one-time code'],
      ['accepted', X, null],
    ]);
  });

  it('has no accepted line for a refused connection', async () => {
    await registerVia(server, 'pc-1', X);
    await expect(
      TestTerminal.open(server.port ?? 0, 'pc-1', 't', 'not-the-credential'),
    ).rejects.toMatchObject({
      code: 4,
    });
    expect((await lines('pc-1', 'connect')).map((e) => e.outcome)).toEqual(['accepted']);
  });

  it("counts downloads by what was sent: the versions of the terminal's own last batch are not sent back", async () => {
    const other = await onlineTerminal(server, 'other', X, ['contacts']);
    await other.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [[C, 'theirs', 0, T0, bytes(1, 2, 3)]],
    });
    // pc-1 uploads before it downloaded `theirs`: its anchor (0) is not the ack's `previous` (1).
    const pc = await onlineTerminal(server, 'pc-1', X, ['contacts']);
    const ack = await pc.request({
      type: 'upload',
      subscriber: X,
      batch: 1,
      changes: [[C, 'mine', 0, T0, new Uint8Array(500)]],
    });
    expect(ack).toMatchObject({ type: 'upload-ack', seqs: [2], previous: 1, latest: 2 });

    const page = await pc.request({ type: 'download', subscriber: X, after: 0, maxBytes: 4096 });
    expect(page).toMatchObject({ type: 'changes', next: 2, more: false });
    if (page.type !== 'changes') throw new Error('expected changes');
    expect(page.changes.map((c) => c[1])).toEqual(['theirs']);
    expect((await lines('pc-1', 'download')).at(-1)).toMatchObject({ downloaded: 1, downloadedBytes: 3 });

    // Another terminal's later version of the same record is new to pc-1: it is sent.
    await other.request({
      type: 'upload',
      subscriber: X,
      batch: 2,
      changes: [[C, 'mine', 2, T0 + 1, bytes(9)]],
    });
    const next = await pc.request({ type: 'download', subscriber: X, after: 2, maxBytes: 4096 });
    if (next.type !== 'changes') throw new Error('expected changes');
    expect(next.changes.map((c) => [c[1], c[2]])).toEqual([['mine', 3]]);
    expect((await lines('pc-1', 'download')).at(-1)).toMatchObject({ downloaded: 1, downloadedBytes: 1 });
  });

  it('sends a re-registered terminal every version again, its own included', async () => {
    const pc = await onlineTerminal(server, 'pc-1', X, ['contacts']);
    await pc.request({ type: 'upload', subscriber: X, batch: 1, changes: [[C, 'mine', 0, T0, bytes(4, 5)]] });
    const held = await pc.request({ type: 'download', subscriber: X, after: 0, maxBytes: 4096 });
    expect(held).toMatchObject({ changes: [], next: 1 });

    // FIG. 8 again (after a factory reset, [0072]): the stored ack is cleared with the new credential.
    const fresh = await onlineTerminal(server, 'pc-1', X, ['contacts']);
    const page = await fresh.request({ type: 'download', subscriber: X, after: 0, maxBytes: 4096 });
    if (page.type !== 'changes') throw new Error('expected changes');
    expect(page.changes.map((c) => c[1])).toEqual(['mine']);
    expect((await lines('pc-1', 'download')).map((e) => e.downloaded)).toEqual([0, 1]);
  });
});
