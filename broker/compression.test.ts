import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { vcard } from '../bench/fixtures.js';
import { categoryCode, ENVELOPE_DEFLATE, encodeRequest, type WireChange } from '../core/protocol/index.js';
import type { SyncServer } from './server.js';
import { onlineTerminal, serverEachTest, X } from './test-support.js';

/**
 * Issue 20's compression at the server (core/protocol/envelope.ts): a
 * connection that sends with the envelope gets large replies deflated; one
 * that sends bare CBOR (an older terminal) gets bare CBOR; a deflate bomb is
 * refused at the message limit and changes nothing.
 */
const C = categoryCode('contacts');
const changes = (n: number, from = 0): WireChange[] =>
  Array.from({ length: n }, (_, i) => [C, `c${from + i}`, 0, Date.now(), vcard(from + i)] as WireChange);

describe('compressed payloads, negotiated per connection', () => {
  let server: SyncServer;
  serverEachTest((started) => {
    server = started;
  });

  it('an enveloped upload is applied; the download page comes back deflated only to a connection that used the envelope', async () => {
    const up = await onlineTerminal(server, 'pc-1', X);
    const ack = await up.request({ type: 'upload', subscriber: X, batch: 1, changes: changes(300) }, true);
    expect(ack).toMatchObject({ type: 'upload-ack', latest: 300 });
    const modern = await onlineTerminal(server, 'phone-1', X);
    const page = await modern.request({ type: 'download', subscriber: X, after: 0, maxBytes: 1 << 22 }, true);
    expect(page).toMatchObject({ type: 'changes', next: 300 });
    expect(modern.compressedReplies).toBe(1);
    const old = await onlineTerminal(server, 'old-1', X);
    const plain = await old.request({ type: 'download', subscriber: X, after: 0, maxBytes: 1 << 22 });
    expect(plain).toEqual(page);
    expect(old.compressedReplies).toBe(0);
  });

  it('a deflate bomb (64 MiB of zeros in 64 KiB) is refused too-large, changes nothing, and the connection goes on', async () => {
    const t = await onlineTerminal(server, 'pc-1', X);
    const bomb = Uint8Array.from([ENVELOPE_DEFLATE, ...deflateRawSync(new Uint8Array(64 * 1024 * 1024))]);
    const refused = t.waitReply(null);
    await t.publishRaw(bomb);
    expect(await refused).toMatchObject({ type: 'error', code: 'too-large' });
    // A real upload's CBOR, deflated and cut short: malformed, nothing applied.
    const cut = deflateRawSync(
      encodeRequest({ type: 'upload', req: 9, subscriber: X, batch: 1, changes: changes(50) }),
    );
    const malformed = t.waitReply(null);
    await t.publishRaw(Uint8Array.from([ENVELOPE_DEFLATE, ...cut.subarray(0, cut.length - 40)]));
    expect(await malformed).toMatchObject({ type: 'error', code: 'malformed' });
    expect(await server.store.latestSeq(X)).toBe(0);
    expect(
      await t.request({ type: 'upload', subscriber: X, batch: 1, changes: changes(2) }, true),
    ).toMatchObject({
      type: 'upload-ack',
    });
  });
});
