import { encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import {
  categoryCode,
  conflictCopyId,
  decodeReply,
  decodeRequest,
  downTopic,
  encodeReply,
  encodeRequest,
  loosened,
  normaliseSelection,
  ProtocolError,
  parseConflictCopyId,
  parseTopic,
  parseUsername,
  passesFilters,
  type Request,
  upTopic,
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
