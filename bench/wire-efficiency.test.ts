import { describe, expect, it } from 'vitest';
import { utf8 } from '../core/index.js';
import { syncMlSession } from './syncml.js';
import { run } from './wire-efficiency.js';

describe('bench wire-efficiency (smoke)', () => {
  it('counts whole-session bytes up and down, for N and for the small store, beside SyncML', async () => {
    const result = await run({ n: 50, ks: [1, 10, 50], small: 10 });
    expect(result.bench).toBe('wire-efficiency');
    expect(result.rows.map((r) => `${r.N}/${r.k}/${r.direction}`)).toEqual([
      '50/1/up',
      '50/1/down',
      '50/10/up',
      '50/10/down',
      '50/50/up',
      '50/50/down',
      '10/1/up',
      '10/1/down',
    ]);
    for (const row of result.rows) {
      // Batches and pages above 1 KiB go deflated (core/protocol/envelope.ts): the wire may carry less than the bodies.
      expect(row.wire_bytes).toBeGreaterThan(0);
      expect(row.syncml_bytes).toBeGreaterThan(row.body_bytes as number);
    }
    const fifty = result.rows.find((r) => r.N === 50 && r.k === 50 && r.direction === 'down');
    expect(fifty?.wire_bytes as number).toBeLessThan(fifty?.body_bytes as number);
    expect(Object.keys(result.targets)).toHaveLength(5);
  }, 60_000);

  it('builds OMA DS 1.2 packages 1-5 with one Replace of every change and one Status naming each', () => {
    const changes = [
      { id: 'c1', body: utf8('BEGIN:VCARD\r\nEND:VCARD\r\n') },
      { id: 'c2', body: utf8('BEGIN:VCARD\r\nEND:VCARD\r\n') },
    ];
    const messages = syncMlSession([], changes);
    expect(messages).toHaveLength(5);
    for (const xml of messages) {
      expect(xml).toMatch(
        /^<\?xml version="1.0" encoding="UTF-8"\?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>/,
      );
      expect(xml.endsWith('<Final/></SyncBody></SyncML>')).toBe(true);
    }
    expect(messages[0]).toContain('<Cred>');
    expect(messages[3]!.match(/<Replace>/g)).toHaveLength(1);
    expect(messages[3]!.match(/<Item><Source><LocURI>/g)).toHaveLength(2);
    expect(messages[4]).toContain('<Cmd>Replace</Cmd><SourceRef>c1</SourceRef><SourceRef>c2</SourceRef>');
  });
});
