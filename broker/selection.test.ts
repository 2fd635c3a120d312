import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { categoryCode, type WireChange } from '../core/protocol/index.js';
import type { SyncServer } from './server.js';
import { MAX_CLOCK_LEAD_MS } from './sync/upload.js';
import {
  endClients,
  onlineTerminal,
  startTestServer,
  stopTestServer,
  type TestTerminal,
  X,
} from './test-support.js';

const C = categoryCode('contacts');
const M = categoryCode('mail');
const A = categoryCode('archive');
const DAY = 86_400_000;

describe('server side of data selection, limits and lazy download', () => {
  let server: SyncServer;
  let now = Date.UTC(2025, 5, 1);

  beforeEach(async () => {
    now = Date.UTC(2025, 5, 1);
    server = await startTestServer({ now: () => now });
  });
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  async function upload(t: TestTerminal, batch: number, changes: WireChange[]): Promise<void> {
    const ack = await t.request({ type: 'upload', subscriber: X, batch, changes });
    expect(ack.type).toBe('upload-ack');
  }

  const ids = (changes: WireChange[]) => changes.map((c) => c[1]);

  it('[0033]: folder and recency filters select what a terminal downloads; the rest stays on the server', async () => {
    const pc = await onlineTerminal(server, 'pc-1', X, ['contacts', 'mail']);
    const phone = await onlineTerminal(server, 'phone-1', X, ['contacts', 'mail']);
    const body = new Uint8Array([1]);
    await upload(pc, 1, [
      [M, 'in-new', 0, now, body, { folder: 'inbox', date: now - 10 * DAY }],
      [M, 'in-old', 0, now, body, { folder: 'inbox', date: now - 200 * DAY }],
      [M, 'sent-new', 0, now, body, { folder: 'sent', date: now - 1 * DAY }],
      [M, 'unfiled', 0, now, body],
      [C, 'bob', 0, now - 400 * DAY, body],
    ]);
    const set = await phone.request({
      type: 'set-categories',
      subscriber: X,
      categories: ['contacts', 'mail'],
      filters: { folders: { mail: ['inbox'] }, recentDays: { mail: 90 } },
    });
    expect(set).toMatchObject({ type: 'ok', filters: { folders: { mail: ['inbox'] } } });
    expect((await server.store.getTerminal('phone-1'))?.filters).toEqual({
      folders: { mail: ['inbox'] },
      recentDays: { mail: 90 },
    });
    const page = await phone.request<'changes'>({
      type: 'download',
      subscriber: X,
      after: 0,
      maxBytes: 4096,
    });
    expect(ids(page.changes)).toEqual(['in-new', 'unfiled', 'bob']);
    expect(page.changes[0]?.[5]).toEqual({ folder: 'inbox', date: now - 10 * DAY });
    expect(page.next).toBe(5);
    const probe = await phone.request({ type: 'probe', subscriber: X, after: 3, category: 'mail' });
    expect(probe).toMatchObject({ pending: true });
    // Nothing filtered out is deleted: a terminal without filters still gets everything.
    const laptop = await onlineTerminal(server, 'laptop-1', X, ['contacts', 'mail']);
    const all = await laptop.request<'changes'>({
      type: 'download',
      subscriber: X,
      after: 0,
      maxBytes: 4096,
    });
    expect(all.changes).toHaveLength(5);
  });

  it('filters survive re-registration and a filtered-out-only range probes as nothing pending', async () => {
    const phone = await onlineTerminal(server, 'phone-1', X, ['mail']);
    await phone.request({
      type: 'set-categories',
      subscriber: X,
      categories: ['mail'],
      filters: { folders: { mail: ['inbox'] } },
    });
    await upload(phone, 1, [[M, 's', 0, now, new Uint8Array([1]), { folder: 'sent' }]]);
    expect(await phone.request({ type: 'probe', subscriber: X, after: 0 })).toMatchObject({ pending: false });
  });

  it('[0043]/catch-up: a download can be narrowed to some categories and to a range end', async () => {
    const pc = await onlineTerminal(server, 'pc-1', X, ['contacts', 'mail']);
    const b = new Uint8Array([2]);
    await upload(pc, 1, [
      [C, 'c1', 0, now, b],
      [M, 'm1', 0, now, b],
      [C, 'c2', 0, now, b],
      [M, 'm2', 0, now, b],
    ]);
    const phone = await onlineTerminal(server, 'phone-1', X, ['contacts', 'mail']);
    const mail = await phone.request<'changes'>({
      type: 'download',
      subscriber: X,
      after: 0,
      maxBytes: 4096,
      categories: ['mail', 'archive'],
      upTo: 3,
    });
    expect(ids(mail.changes)).toEqual(['m1']);
    expect(mail).toMatchObject({ next: 3, more: false });
  });

  it('[0085]: a strict page never carries more body bytes than asked, even for its first change', async () => {
    const pc = await onlineTerminal(server, 'pc-1', X, ['contacts']);
    await upload(pc, 1, [
      [C, 'small', 0, now, new Uint8Array(1000)],
      [C, 'big', 0, now, new Uint8Array(3000)],
    ]);
    const phone = await onlineTerminal(server, 'phone-1', X, ['contacts']);
    const first = await phone.request<'changes'>({
      type: 'download',
      subscriber: X,
      after: 0,
      maxBytes: 2048,
      strict: true,
    });
    expect(ids(first.changes)).toEqual(['small']);
    expect(first).toMatchObject({ more: true, next: 1 });
    const second = await phone.request<'changes'>({
      type: 'download',
      subscriber: X,
      after: 1,
      maxBytes: 2048,
      strict: true,
    });
    expect(second).toMatchObject({ changes: [], more: true, next: 1 });
    const loose = await phone.request<'changes'>({
      type: 'download',
      subscriber: X,
      after: 1,
      maxBytes: 2048,
    });
    expect(ids(loose.changes)).toEqual(['big']);
  });

  it('[0094]: large items come as stubs with size and hash; their substance is fetched by range', async () => {
    const pc = await onlineTerminal(server, 'pc-1', X, ['archive', 'contacts']);
    const photo = new Uint8Array(10_000).map((_, i) => i % 251);
    await upload(pc, 1, [
      [A, 'photo', 0, now, photo, { title: 'Beach' }],
      [C, 'bob', 0, now, new Uint8Array(3000)],
    ]);
    const phone = await onlineTerminal(server, 'phone-1', X, ['archive', 'contacts']);
    const page = await phone.request<'changes'>({
      type: 'download',
      subscriber: X,
      after: 0,
      maxBytes: 4096,
      stubs: { above: 4096, categories: ['archive'] },
    });
    const stub = page.changes[0];
    expect(stub?.[4]).toEqual(new Uint8Array(0));
    expect(stub?.[5]).toEqual({
      title: 'Beach',
      stub: { size: 10_000, hash: new Uint8Array(createHash('sha256').update(photo).digest()) },
    });
    // The stub cost no body bytes, so the contact came in the same page.
    expect(ids(page.changes)).toEqual(['photo', 'bob']);
    const part = await phone.request({
      type: 'fetch',
      subscriber: X,
      category: 'archive',
      id: 'photo',
      seq: 1,
      offset: 9000,
      length: 4096,
    });
    expect(part).toMatchObject({ type: 'substance', seq: 1, offset: 9000, size: 10_000 });
    expect(part.type === 'substance' && part.bytes).toEqual(photo.slice(9000));
    const stale = await phone.request({
      type: 'fetch',
      subscriber: X,
      category: 'archive',
      id: 'photo',
      seq: 7,
      offset: 0,
      length: 10,
    });
    expect(stale).toMatchObject({ type: 'error', code: 'gone' });
    const history = await server.admin.history(X);
    expect(history.some((e) => e.action === 'fetch' && e.downloadedBytes === 1000)).toBe(true);
  });

  it('[0068]: an edit stamped far in the future is taken at the server time, so a fast clock cannot win every conflict', async () => {
    const pc = await onlineTerminal(server, 'pc-1', X, ['contacts']);
    await upload(pc, 1, [[C, 'bob', 0, now + 10 * DAY, new Uint8Array([1])]]);
    expect((await server.store.getRecord(X, 'contacts', 'bob'))?.editedAt).toBe(now + MAX_CLOCK_LEAD_MS);
  });
});
