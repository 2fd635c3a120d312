import { encode } from 'cborg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SyncServer } from '../../broker/server.js';
import {
  endClients,
  onlineTerminal,
  registerVia,
  startTestServer,
  stopTestServer,
  TestTerminal,
  X,
  Y,
} from '../../broker/test-support.js';
import { type Reply, upTopic, WireChange } from '../../core/protocol/index.js';
import { BOMB_BYTES, flatEmptyMaps, nestedArrays, uploadWith } from '../support/cbor-bombs.js';

/**
 * Attacker's notebook, decoding (issue 13 item 5): an authenticated terminal
 * sends payloads that are cheap to make and were costly to refuse. Each is
 * refused with a typed error naming the limit it broke, changes nothing, and
 * another terminal's request sent alongside is answered. The server runs
 * with the shipped limits (4 MiB messages, core/protocol/codec.ts).
 */

const MIB = 1024 * 1024;
/** 4 MiB: an upload whose changes are one array of empty maps (a0 × ~4.2 million). */
const flatMaps = (req: number) => flatEmptyMaps(X, req);

/** ~4 MiB: changes = 40 arrays of 100,000 empty maps each, every array within the length limit. */
const nestedMaps = (req: number) => nestedArrays(X, req, 40, 100_000, 0xa0);

describe('decode bombs (issue 13 item 5)', () => {
  let server: SyncServer;
  let credential: string;
  let attacker: TestTerminal;
  let bystander: TestTerminal;

  beforeEach(async () => {
    server = await startTestServer();
    credential = await registerVia(server, 'bomber', X);
    attacker = await TestTerminal.open(server.port ?? 0, 'bomber', 't', credential);
    bystander = await onlineTerminal(server, 'bystander', Y);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await endClients();
    await stopTestServer(server);
  });

  /** Sends `payload` as the attacker and a probe as the bystander at once: the bomb's reply and the probe's. */
  async function bombAlongsideProbe(payload: Uint8Array, req: number | null): Promise<Reply> {
    const refused = attacker.waitReply(req);
    const sent = attacker.publishRaw(payload);
    const probe = await bystander.request({ type: 'probe', subscriber: Y, after: 0 });
    expect(probe).toMatchObject({ type: 'probe-result', latest: 0, pending: false });
    await sent;
    return refused;
  }

  /** Nothing of the attacker's was applied; its refusal is in the audit log; both terminals still work. */
  async function nothingChanged(reason: RegExp): Promise<void> {
    expect(await server.store.latestSeq(X)).toBe(0);
    const refused = (await server.admin.history(X)).filter((e) => e.outcome === 'refused');
    expect(refused.at(-1)?.reason).toMatch(reason);
    const ok = await attacker.request({ type: 'probe', subscriber: X, after: 0 });
    expect(ok.type).toBe('probe-result');
    const up = await bystander.request({
      type: 'upload',
      subscriber: Y,
      batch: 1,
      changes: [[0, 'c1', 0, 1, new Uint8Array([1])]],
    });
    expect(up).toMatchObject({ type: 'upload-ack', seqs: [1] });
  }

  it('a terminal sending 4 MiB of empty maps in one array gets malformed at the array head and the server keeps serving others', async () => {
    const bomb = flatMaps(11);
    expect(bomb.length).toBe(BOMB_BYTES);
    const reply = await bombAlongsideProbe(bomb, 11);
    expect(reply).toMatchObject({ type: 'error', code: 'malformed', req: 11 });
    expect(reply.type === 'error' && reply.message).toMatch(
      /^upload message over its limits: an array of \d+ exceeds 100000$/,
    );
    await nothingChanged(/an array of \d+ exceeds 100000/);
  });

  it('a terminal sending 4 MiB of nested empty maps gets malformed and the server keeps serving others', async () => {
    const reply = await bombAlongsideProbe(nestedMaps(12), 12);
    expect(reply).toMatchObject({
      type: 'error',
      code: 'malformed',
      req: 12,
      message: 'upload message over its limits: more than 300002 arrays and maps',
    });
    await nothingChanged(/more than 300002 arrays and maps/);
  });

  it('a terminal sending 4 MiB of nested one-element arrays gets malformed at the depth limit, not a stack overflow', async () => {
    const reply = await bombAlongsideProbe(new Uint8Array(BOMB_BYTES).fill(0x81), null);
    expect(reply).toMatchObject({
      type: 'error',
      code: 'malformed',
      req: null,
      message: 'message over its limits: nested deeper than 5',
    });
    await nothingChanged(/nested deeper than 5/);
  });

  it('a terminal sending an array head that claims 2^32 − 1 changes gets malformed at that head', async () => {
    const payload = Uint8Array.from([...uploadWith(X, 13, [0x9a, 0xff, 0xff, 0xff, 0xff]), 0xf6]);
    const reply = await bombAlongsideProbe(payload, 13);
    expect(reply).toMatchObject({
      type: 'error',
      code: 'malformed',
      req: 13,
      message: 'upload message over its limits: an array of 4294967295 exceeds 100000',
    });
    await nothingChanged(/an array of 4294967295/);
  });

  it('a terminal padding a probe to 1 MiB gets too-large for a probe, though under the message limit', async () => {
    const padded = encode({ type: 'probe', req: 14, subscriber: X, after: 0, category: 'x'.repeat(MIB) });
    const reply = await bombAlongsideProbe(padded, 14);
    expect(reply).toMatchObject({ type: 'error', code: 'too-large', req: 14 });
    expect(reply.type === 'error' && reply.message).toMatch(
      /^probe message over its limits: \d+ bytes exceed 4096$/,
    );
    await nothingChanged(/bytes exceed 4096/);
  });

  it('a terminal sending 100,000 bad changes gets malformed after the first one is checked, not all of them', async () => {
    const changes = Array.from({ length: 100_000 }, () => ['x', 'x', 'x', 'x', 'x']);
    const payload = encode({ type: 'upload', req: 15, subscriber: X, batch: 1, changes });
    const checked = vi.spyOn(WireChange._zod, 'run');
    const reply = await bombAlongsideProbe(payload, 15);
    expect(reply).toMatchObject({
      type: 'error',
      code: 'malformed',
      req: 15,
      message: 'invalid message at changes.0.0: Invalid input: expected number, received string',
    });
    expect(checked).toHaveBeenCalledTimes(1);
    await nothingChanged(/changes\.0\.0/);
  });

  it('a terminal sending bomb after bomb is held back once its budget is spent, reconnecting or not, while another terminal is served', async () => {
    // The budget: 16 MiB of refused payloads at once, then 1 MiB/s (broker/request-budget.ts).
    for (let i = 1; i <= 5; i++) {
      const reply = attacker.waitReply(i);
      await attacker.publishRaw(flatMaps(i));
      expect(await reply).toMatchObject({ type: 'error', code: 'malformed', req: i });
    }
    // A new connection of the same terminal starts no fresh budget: its bomb waits 4 s to be read.
    await attacker.end();
    const again = await TestTerminal.open(server.port ?? 0, 'bomber', 't', credential);
    again.client.publishAsync(upTopic('bomber'), Buffer.from(flatMaps(6)), { qos: 1 }).catch(() => undefined);
    for (let i = 0; i < 3; i++) {
      const probe = await bystander.request({ type: 'probe', subscriber: Y, after: 0 });
      expect(probe.type).toBe('probe-result');
    }
    expect(again.replies).toEqual([]);
    const refused = (await server.admin.history(X)).filter((e) => e.outcome === 'refused');
    expect(refused).toHaveLength(5);
  });
});
