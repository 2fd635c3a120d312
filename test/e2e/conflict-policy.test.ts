import { describe, expect, it, vi } from 'vitest';
import { SyncError, utf8 } from '../../core/index.js';
import type { Clock } from '../../hal/index.js';
import { member, sceneEachTest, syncWithSim } from './scene.js';
import { IMSI, terminalData, userArea } from './world.js';

const s = sceneEachTest();

describe('[0023] / [0044] / [0068]: conflicts and editing without the SIM', () => {
  it('[0023]: by default personal data is read-only while no SIM is mounted', async () => {
    const a = await member(s, 'a');
    const error = await a.terminal.edit('contacts', 'bob', utf8('Bob')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ kind: 'read-only' });
    await expect(a.terminal.delete('contacts', 'bob')).rejects.toMatchObject({ kind: 'read-only' });
    expect(await a.terminal.records.dirtyCount()).toBe(0);
    a.reader.insert(s.sim);
    await a.terminal.edit('contacts', 'bob', utf8('Bob'));
    expect(await a.terminal.records.dirtyCount()).toBe(1);
  });

  it('two terminals edit one record without the SIM: both are warned, one deterministic winner, both versions kept, both users told', async () => {
    const options = { withoutSim: 'editable' as const };
    const a = await member(s, 'a', { options });
    const b = await member(s, 'b', { options });
    a.reader.insert(s.sim);
    await a.terminal.edit('contacts', 'bob', utf8('Bob v1'));
    await a.terminal.sync();
    a.reader.remove();
    await syncWithSim(s, b);

    // [0068]: edits without the SIM of a record the server holds get a warning.
    const fromA = await a.terminal.edit('contacts', 'bob', utf8('Bob from A'));
    // B's edit comes later: the clock has passed A's stamp (a barrier on the clock, not a guess at how long).
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(fromA.editedAt), { interval: 1 });
    await b.terminal.edit('contacts', 'bob', utf8('Bob from B'));
    for (const t of [a, b]) {
      expect(t.agent.notices).toContainEqual(
        expect.objectContaining({
          kind: 'conflict',
          recordId: 'bob',
          detail: expect.stringContaining('possible conflict'),
        }),
      );
    }
    // A new record cannot conflict: no warning.
    await a.terminal.edit('contacts', 'new', utf8('x'));
    expect(a.agent.notices.filter((n) => n.kind === 'conflict' && n.recordId === 'new')).toEqual([]);

    await syncWithSim(s, a);
    const bReport = await syncWithSim(s, b);
    expect(bReport.conflicts).toEqual([expect.objectContaining({ id: 'bob', outcome: 'won' })]);
    const area = await userArea(s.world);
    expect(area['contacts/bob']).toBe('Bob from B');
    const copies = Object.entries(area).filter(([k]) => k.startsWith('contacts/bob~conflict~'));
    expect(copies.map(([, v]) => v)).toEqual(['Bob from A']);
    expect(copies[0]?.[0]).toContain(a.terminal.terminalId);

    // A learns at its next sync: its version lost and is kept as the copy.
    await syncWithSim(s, a);
    const told = (n: { kind: string; recordId?: string; detail?: string }) =>
      n.kind === 'conflict' && n.recordId === 'bob' && !n.detail?.startsWith('possible');
    expect(b.agent.notices.filter(told)).toHaveLength(1);
    expect(a.agent.notices.filter(told)).toEqual([
      expect.objectContaining({ detail: expect.stringContaining("this terminal's version is kept") }),
    ]);
    expect(await terminalData(a)).toEqual(area);
    expect(await terminalData(b)).toEqual(area);
  });

  it('hybrid logical clock: an edit made after seeing a version is stamped after it, even on a clock an hour slow', async () => {
    const HOUR = 3_600_000;
    const slow = { ...s.world.clock, now: () => Date.now() - HOUR } as Clock;
    for (const k of ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const) {
      (slow as unknown as Record<string, unknown>)[k] = s.world.clock[k].bind(s.world.clock);
    }
    const a = await member(s, 'a', { clock: slow });
    // B's user edits while the SIM is in A ([0068]: they chose editable without the SIM).
    const b = await member(s, 'b', { options: { withoutSim: 'editable' } });
    b.reader.insert(s.sim);
    await b.terminal.edit('contacts', 'bob', utf8('v1'));
    await b.terminal.sync();
    b.reader.remove();
    await syncWithSim(s, a);
    const seen = (await a.terminal.records.get('contacts', 'bob'))?.editedAt ?? 0;
    expect(seen).toBeGreaterThan(slow.now());
    a.reader.insert(s.sim);
    const edited = await a.terminal.edit('contacts', 'bob', utf8('v2'));
    expect(edited.editedAt).toBeGreaterThan(seen);
    await a.terminal.sync();
    a.reader.remove();
    // B, which still holds v1 and edits it concurrently a moment later, meets A's later stamp.
    await b.terminal.edit('contacts', 'bob', utf8('v1 edited on B'));
    const report = await syncWithSim(s, b);
    expect(report.conflicts).toEqual([expect.objectContaining({ id: 'bob' })]);
    const current = await s.world.server.store.getRecord(IMSI, 'contacts', 'bob');
    expect(current?.editedAt).toBeGreaterThanOrEqual(edited.editedAt);
    expect(Object.keys(await userArea(s.world)).filter((k) => k.startsWith('contacts/bob')).length).toBe(2);
  });
});
