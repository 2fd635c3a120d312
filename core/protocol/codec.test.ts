import { encode } from 'cborg';
import { describe, expect, it } from 'vitest';
import {
  categoryCode,
  decodeReply,
  decodeRequest,
  downTopic,
  encodeReply,
  encodeRequest,
  normaliseSelection,
  ProtocolError,
  parseTopic,
  parseUsername,
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
