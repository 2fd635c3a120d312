import { encode } from 'cborg';
import { describe, expect, it, vi } from 'vitest';
import {
  CATEGORIES,
  categoryCode,
  conflictCopyId,
  decodeReply,
  decodeRequest,
  downTopic,
  encodeReply,
  encodeRequest,
  loosened,
  MAX_UPLOAD_PART_BYTES,
  normaliseSelection,
  ProtocolError,
  parseConflictCopyId,
  parseTopic,
  parseUsername,
  passesFilters,
  REPLY_LIMITS,
  REQUEST_LIMITS,
  type Reply,
  type Request,
  upTopic,
  WireChange,
} from './index.js';

const upload: Request = {
  type: 'upload',
  req: 7,
  subscriber: '001010000000102',
  batch: 3,
  changes: [
    [categoryCode('contacts'), 'c1', 0, 1_764_000_000_000, new Uint8Array([1, 2, 3])],
    [categoryCode('mail'), 'm9', 12, 1_764_000_000_001, null],
  ],
};

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('expected a ProtocolError');
}

describe('wire codec', () => {
  it('round-trips a request, bodies as bytes and deletions as null ([0060])', () => {
    expect(decodeRequest(encodeRequest(upload))).toEqual(upload);
  });

  it('round-trips every reply type', () => {
    const replies = [
      {
        type: 'upload-ack',
        req: 1,
        batch: 3,
        seqs: [5, 0],
        issues: [{ index: 1, code: 'rejected', reason: 'x' }],
        previous: 4,
        latest: 5,
      },
      { type: 'changes', req: 2, changes: [[0, 'a', 9, 1, new Uint8Array(0)]], next: 9, more: false },
      { type: 'error', req: null, code: 'malformed', message: 'bad' },
      { type: 'updates', latest: 44, categories: ['contacts'] },
    ] as const;
    for (const r of replies) expect(decodeReply(encodeReply(r as never))).toEqual(r);
  });

  it('costs at most 40 bytes per record beyond the body in an upload', () => {
    const n = 1000;
    const body = new Uint8Array(100);
    const changes = Array.from(
      { length: n },
      (_, i) => [0, `rec-${i}`, i, 1_764_000_000_000 + i, body] as const,
    );
    const bytes = encodeRequest({ ...upload, changes: changes as never });
    expect((bytes.length - n * body.length) / n).toBeLessThanOrEqual(40);
  });

  it('refuses garbage, unknown types, extra fields and oversized payloads with typed errors', () => {
    expect(protocolError(() => decodeRequest(new Uint8Array([0xff, 0x00, 0x13]))).kind).toBe('malformed');
    expect(protocolError(() => decodeRequest(encode({ type: 'drop-tables', req: 1 }))).kind).toBe(
      'malformed',
    );
    const extra = protocolError(() => decodeRequest(encode({ ...upload, admin: true })));
    expect(extra.kind).toBe('malformed');
    expect(extra.req).toBe(7);
    expect(protocolError(() => decodeRequest(encode({ ...upload, subscriber: '12ab' }))).kind).toBe(
      'malformed',
    );
    expect(protocolError(() => decodeRequest(new Uint8Array(100), 10)).kind).toBe('too-large');
    const badCategory = { ...upload, changes: [[8, 'x', 0, 0, null]] };
    expect(protocolError(() => decodeRequest(encode(badCategory))).kind).toBe('malformed');
  });
});

const X = '001010000000102';
const MIB = 1024 * 1024;
/** 3-byte UTF-8 characters: a string of n UTF-16 units at its largest encoding. */
const wide = (n: number) => '€'.repeat(n);
const allFilters = {
  folders: Object.fromEntries(
    CATEGORIES.map((c) => [c, Array.from({ length: 64 }, (_, i) => wide(62) + String(i).padStart(2, '0'))]),
  ),
  recentDays: Object.fromEntries(CATEGORIES.map((c) => [c, 36_500])),
};

/** An upload whose `changes` array head declares `n` entries, followed by `fill`. */
function uploadHead(n: number, req = 7): number[] {
  const head = [...encode({ type: 'upload', req, subscriber: X, batch: 1 })];
  head[0] = 0xa5; // one entry more: "changes"
  // The shortest form of the length: decoding is strict (RFC 8949 §4.2.1).
  const length =
    n < 24
      ? [0x80 | n]
      : n < 256
        ? [0x98, n]
        : n < 65_536
          ? [0x99, n >> 8, n & 0xff]
          : [0x9a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return [...head, ...encode('changes'), ...length];
}

/** How many changes an upload holds and its last (a deep comparison of 10^5 byte strings takes seconds). */
function changesOf(request: Request): { count: number; last: unknown } {
  if (request.type !== 'upload') throw new Error(`not an upload: ${request.type}`);
  return { count: request.changes.length, last: request.changes.at(-1) };
}

describe('bounded decoding (issue 13: decode bombs)', () => {
  it('decodes the largest message of each kind its schema allows', () => {
    const requests: Request[] = [
      {
        type: 'register',
        req: 0xffff_ffff,
        subscriber: X,
        iccid: '89000000000000000000',
        terminalPassword: wide(256),
        categories: [...CATEGORIES],
      },
      { type: 'probe', req: 1, subscriber: X, after: Number.MAX_SAFE_INTEGER, category: 'application' },
      {
        type: 'fetch',
        req: 1,
        subscriber: X,
        category: 'archive',
        id: wide(200),
        seq: 1,
        offset: 2,
        length: 4 * MIB,
      },
      {
        type: 'download',
        req: 1,
        subscriber: X,
        after: 1,
        maxBytes: 64 * MIB,
        categories: [...CATEGORIES],
        upTo: 2,
        strict: true,
        stubs: { above: 3, categories: [...CATEGORIES] },
      },
      { type: 'set-categories', req: 1, subscriber: X, categories: [...CATEGORIES], filters: allFilters },
    ];
    for (const r of requests) expect(decodeRequest(encodeRequest(r))).toEqual(r);
    const replies: Reply[] = [
      { type: 'registered', req: 1, credential: wide(256), categories: [...CATEGORIES] },
      { type: 'ok', req: 1, categories: [...CATEGORIES], filters: allFilters },
      { type: 'probe-result', req: 1, latest: Number.MAX_SAFE_INTEGER, pending: true },
      { type: 'error', req: 1, code: 'malformed', message: wide(500) },
      { type: 'updates', latest: 1, categories: [...CATEGORIES] },
    ];
    for (const r of replies) expect(decodeReply(encodeReply(r))).toEqual(r);
  });

  it('decodes an upload of 100,000 changes with every meta field: the item and container limits exactly', () => {
    const change: WireChange = [
      0,
      'a',
      0,
      0,
      new Uint8Array(0),
      { folder: 'f', date: 0, title: '', stub: { size: 0, hash: new Uint8Array(0) } },
    ];
    const message: Request = {
      type: 'upload',
      req: 1,
      subscriber: X,
      batch: 1,
      changes: Array(100_000).fill(change),
    };
    const bytes = encodeRequest(message);
    // 49 bytes a change: over 4 MiB, so read with a larger message limit.
    expect(changesOf(decodeRequest(bytes, 8 * MIB))).toEqual({ count: 100_000, last: change });
    expect(REQUEST_LIMITS.upload).toMatchObject({ maxItems: 1_900_011, maxContainers: 300_002 });
  });

  it('decodes a 4 MiB upload: 100,000 changes of 19-byte bodies, or one change of a 4 MiB body', () => {
    const many: Request = {
      type: 'upload',
      req: 1,
      subscriber: X,
      batch: 1,
      changes: Array.from({ length: 100_000 }, (_, i) => [
        1,
        `r${i}`,
        i,
        1_764_000_000_000 + i,
        new Uint8Array(19),
      ]),
    };
    const bytes = encodeRequest(many);
    expect(bytes.length).toBeGreaterThan(3.5 * MIB);
    expect(changesOf(decodeRequest(bytes))).toEqual({ count: 100_000, last: many.changes[99_999] });
    const one: Request = {
      type: 'upload',
      req: 1,
      subscriber: X,
      batch: 1,
      changes: [[3, 'photo', 0, 1, new Uint8Array(4 * MIB - 100).map((_, i) => i % 251)]],
    };
    const body = (r: Request) => (r.type === 'upload' ? r.changes[0]?.[4] : undefined);
    const got = body(decodeRequest(encodeRequest(one)));
    const sent = body(one);
    // Compared as one string: vitest compares byte arrays element by element, seconds for 4 MiB.
    expect(got?.length).toBe(4 * MIB - 100);
    expect(got && new TextDecoder('latin1').decode(got)).toBe(sent && new TextDecoder('latin1').decode(sent));
  });

  it('refuses 4 MiB of empty maps in one array at its head: length limit, req kept', () => {
    const n = 4 * MIB - 64;
    const bytes = new Uint8Array(4 * MIB).fill(0xa0);
    bytes.set(uploadHead(n));
    const e = protocolError(() => decodeRequest(bytes.subarray(0, uploadHead(n).length + n)));
    expect(e).toMatchObject({ kind: 'malformed', limit: 'length', req: 7 });
    expect(e.message).toBe(`upload message over its limits: an array of ${n} exceeds 100000`);
  });

  it('refuses 4 MiB of empty maps nested in arrays under the length limit: container limit', () => {
    const inner = [0x9a, 0x00, 0x01, 0x86, 0xa0, ...new Array(100_000).fill(0xa0)];
    const parts = [...uploadHead(40)];
    const bytes = new Uint8Array(parts.length + 40 * inner.length);
    bytes.set(parts);
    for (let i = 0; i < 40; i++) bytes.set(inner, parts.length + i * inner.length);
    expect(protocolError(() => decodeRequest(bytes))).toMatchObject({
      kind: 'malformed',
      limit: 'containers',
    });
  });

  it('refuses 4 MiB of nested one-element arrays at depth 6, not with a stack overflow', () => {
    const e = protocolError(() => decodeRequest(new Uint8Array(4 * MIB).fill(0x81)));
    expect(e).toMatchObject({ kind: 'malformed', limit: 'depth' });
    expect(e.message).toBe('message over its limits: nested deeper than 5');
  });

  it('refuses an array head claiming 2^32 − 1 changes with little behind it', () => {
    const bytes = Uint8Array.from([...uploadHead(0xffff_ffff), 0xf6]);
    expect(protocolError(() => decodeRequest(bytes, 8 * MIB))).toMatchObject({
      kind: 'malformed',
      limit: 'length',
    });
  });

  it('refuses a small kind padded to a MiB as too-large, once its type is read', () => {
    const probe = encode({ type: 'probe', req: 3, subscriber: X, after: 0, category: 'x'.repeat(MIB) });
    const e = protocolError(() => decodeRequest(probe));
    expect(e).toMatchObject({ kind: 'too-large', limit: 'bytes', req: 3 });
    expect(e.message).toMatch(/^probe message over its limits: \d+ bytes exceed 4096$/);
    // Every kind but the two that carry bodies fits in 128 KiB; a part, in its bytes and 1 KiB.
    for (const [type, limits] of Object.entries(REQUEST_LIMITS)) {
      if (type !== 'upload' && type !== 'upload-part')
        expect(limits.maxBytes, type).toBeLessThanOrEqual(128 * 1024);
    }
    expect(REQUEST_LIMITS['upload-part'].maxBytes).toBe(MAX_UPLOAD_PART_BYTES + 1024);
    expect(REPLY_LIMITS.error.maxBytes).toBe(4096);
  });

  it('refuses an unknown type as soon as it is read', () => {
    const e = protocolError(() =>
      decodeRequest(encode({ req: 9, type: 'drop-tables', x: new Array(1000).fill({}) })),
    );
    expect(e).toMatchObject({ kind: 'malformed', req: 9 });
    expect(e.message).toBe('unknown message type "drop-tables"');
  });

  it('stops validating at the first bad change: 100,000 bad ones cost one check, not 100,000', () => {
    const changes = Array.from({ length: 100_000 }, () => ['x', 'x', 'x', 'x', 'x']);
    const bytes = encode({ type: 'upload', req: 4, subscriber: X, batch: 1, changes });
    const run = vi.spyOn(WireChange._zod, 'run');
    try {
      const e = protocolError(() => decodeRequest(bytes));
      expect(e).toMatchObject({ kind: 'malformed', req: 4 });
      expect(e.message).toBe(
        'invalid message at changes.0.0: Invalid input: expected number, received string',
      );
      expect(run).toHaveBeenCalledTimes(1);
    } finally {
      run.mockRestore();
    }
  });
});

describe('issue 20: the bytes of a substance or a part are read in place', () => {
  it("a substance reply's and an upload part's bytes share the payload's memory; other kinds' are copies", () => {
    const body = new Uint8Array(200_000).fill(9);
    const substance = encodeReply({
      type: 'substance',
      req: 1,
      seq: 3,
      offset: 0,
      size: 200_000,
      bytes: body,
    });
    const reply = decodeReply(substance);
    if (reply.type !== 'substance') throw new Error(reply.type);
    expect(reply.bytes).toEqual(body);
    expect(reply.bytes.buffer).toBe(substance.buffer);
    // A plain Uint8Array, whose slice copies, as any other.
    expect(Object.getPrototypeOf(reply.bytes)).toBe(Uint8Array.prototype);
    expect(reply.bytes.slice(0, 4).buffer).not.toBe(substance.buffer);

    const part = encodeRequest({
      type: 'upload-part',
      req: 2,
      subscriber: X,
      category: 'archive',
      id: 'p',
      size: 200_000,
      hash: new Uint8Array(32),
      offset: 0,
      bytes: body,
    });
    const request = decodeRequest(part);
    if (request.type !== 'upload-part') throw new Error(request.type);
    expect(request.bytes.buffer).toBe(part.buffer);

    const changes = encodeReply({
      type: 'changes',
      req: 3,
      changes: [[0, 'c', 1, 1, body]],
      next: 1,
      more: false,
    });
    const page = decodeReply(changes);
    if (page.type !== 'changes') throw new Error(page.type);
    expect(page.changes[0]?.[4]).toEqual(body);
    expect(page.changes[0]?.[4]?.buffer).not.toBe(changes.buffer);
  });
});

describe('topics and usernames', () => {
  it('gives each terminal its own up/down pair and parses only those', () => {
    expect(upTopic('T-1')).toBe('ss/1/t/T-1/up');
    expect(parseTopic(downTopic('T-1', 'reg'))).toEqual({
      channel: 'reg',
      terminalId: 'T-1',
      direction: 'down',
    });
    for (const bad of [
      'ss/1/t/+/up',
      'ss/1/t/#',
      'ss/1/t/a/b/up',
      'ss/2/t/a/up',
      'ss/1/x/a/up',
      'ss/1/t/a/sideways',
    ]) {
      expect(parseTopic(bad)).toBeUndefined();
    }
    expect(parseUsername('t:pc-1')).toEqual({ channel: 't', terminalId: 'pc-1' });
    expect(parseUsername('t:+')).toBeUndefined();
    expect(parseUsername('admin')).toBeUndefined();
  });

  it('[0033]: rights follows application and is never selectable alone', () => {
    expect(normaliseSelection(['rights', 'contacts'])).toEqual(['contacts']);
    expect(normaliseSelection(['application', 'mail'])).toEqual(['mail', 'application', 'rights']);
  });
});

describe('selection, stubs and conflict copies on the wire', () => {
  it('[0033]/[0094]: round-trips meta, stubs, filters, fetch and substance', () => {
    const messages: Request[] = [
      {
        type: 'upload',
        req: 1,
        subscriber: '001010000000102',
        batch: 1,
        changes: [[1, 'm1', 0, 5, new Uint8Array([1]), { folder: 'sent', date: 4, title: 'Hi' }]],
      },
      {
        type: 'download',
        req: 2,
        subscriber: '001010000000102',
        after: 0,
        maxBytes: 4096,
        categories: ['mail'],
        upTo: 9,
        strict: true,
        stubs: { above: 1024, categories: ['archive'] },
      },
      {
        type: 'set-categories',
        req: 3,
        subscriber: '001010000000102',
        categories: ['mail'],
        filters: { folders: { mail: ['inbox'] }, recentDays: { mail: 90 } },
      },
      {
        type: 'fetch',
        req: 4,
        subscriber: '001010000000102',
        category: 'archive',
        id: 'p',
        seq: 3,
        offset: 0,
        length: 100,
      },
    ];
    for (const m of messages) expect(decodeRequest(encodeRequest(m))).toEqual(m);
    const substance = { type: 'substance', req: 4, seq: 3, offset: 0, size: 9, bytes: new Uint8Array(9) };
    expect(decodeReply(encodeReply(substance as never))).toEqual(substance);
    const stub = [3, 'p', 3, 1, new Uint8Array(0), { stub: { size: 9, hash: new Uint8Array(32) } }];
    const page = { type: 'changes', req: 5, changes: [stub], next: 3, more: false };
    expect(decodeReply(encodeReply(page as never))).toEqual(page);
  });

  it('[0033]: folder filters pass unfiled records; recency uses the date, else the edit time', () => {
    const filters = { folders: { mail: ['inbox'] }, recentDays: { mail: 30 } };
    const now = 100 * 86_400_000;
    expect(passesFilters(filters, 'mail', { folder: 'inbox' }, now, now)).toBe(true);
    expect(passesFilters(filters, 'mail', { folder: 'sent' }, now, now)).toBe(false);
    expect(passesFilters(filters, 'mail', undefined, now, now)).toBe(true);
    expect(passesFilters(filters, 'mail', { date: 0 }, now, now)).toBe(false);
    expect(passesFilters(filters, 'mail', undefined, 0, now)).toBe(false);
    expect(passesFilters(filters, 'contacts', { folder: 'x' }, 0, now)).toBe(true);
    expect(loosened(filters, { folders: { mail: ['inbox', 'sent'] }, recentDays: { mail: 30 } })).toEqual([
      'mail',
    ]);
    expect(loosened(filters, { folders: { mail: ['inbox'] }, recentDays: { mail: 10 } })).toEqual([]);
    expect(loosened(filters, undefined)).toEqual(['mail']);
  });

  it('[0068]: a conflict copy id reads back to its record, losing terminal and edit time', () => {
    const id = conflictCopyId('bob', 'pc-1', 1_764_000_000_000);
    expect(id).toBe('bob~conflict~pc-1~1764000000000');
    expect(parseConflictCopyId(id)).toEqual({
      recordId: 'bob',
      losingTerminal: 'pc-1',
      editedAt: 1_764_000_000_000,
    });
    expect(parseConflictCopyId('bob')).toBeUndefined();
  });
});
