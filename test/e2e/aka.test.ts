import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimWorld } from '../../cli/sim-world.js';
import { SyncError, utf8 } from '../../core/index.js';
import { ServerSession } from '../../core/net/server-session.js';
import { AKA_KEYS } from '../support/aka-keys.js';
import { worldOptions } from '../support/backend.js';
import { closeScene, member, type Scene, subscriberWorld, syncWithSim, withSim } from './scene.js';
import { IMSI, userArea } from './world.js';

/**
 * Issue 19, end to end: the server holds the SIM's K and OPc (TS 35.208 Test
 * Set 1), and every sync session starts with the card answering a fresh
 * challenge through the terminal's reader (here the simulated one; PC/SC and
 * modem in hal-pcsc/ and hal-modem/). The terminal computes nothing itself.
 */

let s: Scene;
beforeEach(async () => {
  const { world, sim } = await subscriberWorld(await worldOptions(), { aka: true });
  s = { world, sim, own: [] };
});
afterEach(async () => {
  await closeScene(s);
});

const seqMs = () => s.sim.snapshot().seqMs ?? [];

describe('AKA at every sync (TS 33.102 §6.3, FIG. 13/14 strengthened)', () => {
  it('the right SIM answers the challenge and the sync runs; each session uses a new SQN on the card', async () => {
    const a = await member(s, 'a');
    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob')));
    const before = Math.max(...seqMs());
    const report = await syncWithSim(s, a);
    expect(report.uploaded.map((u) => u.id)).toEqual(['bob']);
    expect(await userArea(s.world)).toEqual({ 'contacts/bob': 'Bob' });
    const after = Math.max(...seqMs());
    expect(after).toBeGreaterThan(before);
    await syncWithSim(s, a);
    expect(Math.max(...seqMs())).toBeGreaterThan(after);
  });

  it("a stranger's SIM with the user's IMSI (a clone with another K) syncs nothing, and the user is told why", async () => {
    const a = await member(s, 'a');
    // The right SIM first: its proven connection stays open after it is taken out.
    await syncWithSim(s, a);
    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob')));
    const clone = SimWorld.sim({ k: randomBytes(16).toString('hex'), opc: randomBytes(16).toString('hex') });
    a.reader.insert(clone);
    try {
      const refused = await a.terminal.sync().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SyncError);
      expect(refused).toMatchObject({ kind: 'auth-refused', code: 'aka-network' });
    } finally {
      a.reader.remove();
    }
    expect(
      a.agent.notices.some((n) => n.kind === 'sync-rejected' && /does not hold the SIM's key/.test(n.reason)),
    ).toBe(true);
    expect(await userArea(s.world)).toEqual({});
    // The right SIM afterwards: the edit was kept and goes up.
    expect((await syncWithSim(s, a)).uploaded.map((u) => u.id)).toEqual(['bob']);
  });

  it('a SIM without the algorithm (answers AUTHENTICATE 6D00) is refused aka-unsupported', async () => {
    const a = await member(s, 'a');
    const noKey = SimWorld.sim();
    a.reader.insert(noKey);
    try {
      await expect(a.terminal.sync()).rejects.toMatchObject({
        kind: 'auth-refused',
        code: 'aka-unsupported',
      });
    } finally {
      a.reader.remove();
    }
  });

  it("a card whose counter ran ahead (used on another network) re-synchronises the server's SQN and syncs", async () => {
    s.sim = SimWorld.sim({ ...AKA_KEYS, seqMs: new Array(32).fill(90_000) });
    const a = await member(s, 'a');
    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob')));
    expect((await syncWithSim(s, a)).uploaded.map((u) => u.id)).toEqual(['bob']);
    expect(Math.max(...seqMs())).toBeGreaterThan(90_000);
    const row = await s.world.server.store.getAka(IMSI);
    expect(Math.floor((row?.sqn ?? 0) / 32)).toBeGreaterThan(90_000);
  });

  it('the server removing the key ends the proof: the next sync runs without a challenge', async () => {
    const a = await member(s, 'a');
    await syncWithSim(s, a);
    await s.world.server.admin.removeAkaKey(IMSI);
    const before = seqMs().join();
    await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8('Ann')));
    expect((await syncWithSim(s, a)).uploaded.map((u) => u.id)).toEqual(['ann']);
    expect(seqMs().join()).toBe(before);
  });

  it('a subscriber without a key is not challenged again; a key set later is proven at the next sync, whose refused first request changed nothing', async () => {
    const a = await member(s, 'a');
    await s.world.server.admin.removeAkaKey(IMSI);
    const asked: string[] = [];
    const request = ServerSession.prototype.request;
    const spy = vi.spyOn(ServerSession.prototype, 'request').mockImplementation(function (
      this: ServerSession,
      m,
    ) {
      asked.push(m.type);
      return request.call(this, m);
    });
    // One session per sync: the server decides on AKA once per connection.
    const session = async () => {
      asked.length = 0;
      const report = await syncWithSim(s, a);
      await a.terminal.demount();
      return report;
    };
    try {
      await session();
      expect(asked[0]).toBe('aka-challenge');
      await withSim(s, a, () => a.terminal.edit('contacts', 'ann', utf8('Ann')));
      expect((await session()).uploaded.map((u) => u.id)).toEqual(['ann']);
      // Told before that none is needed: no challenge round trip.
      expect(asked).not.toContain('aka-challenge');

      await s.world.server.admin.setAkaKey({ subscriber: IMSI, ...AKA_KEYS });
      const before = Math.max(...seqMs());
      await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob')));
      const report = await session();
      expect(report.uploaded.map((u) => u.id)).toEqual(['bob']);
      // The first request was refused 'aka-required'; the card answered, and the sync ran again.
      expect(asked.slice(1, 3)).toEqual(['aka-challenge', 'aka-response']);
      expect(Math.max(...seqMs())).toBeGreaterThan(before);
      expect(await userArea(s.world)).toEqual({ 'contacts/ann': 'Ann', 'contacts/bob': 'Bob' });
      // And from then on every session proves the card first.
      await session();
      expect(asked[0]).toBe('aka-challenge');
    } finally {
      spy.mockRestore();
    }
  });
});
