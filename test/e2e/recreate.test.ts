import { describe, expect, it, vi } from 'vitest';
import { utf8 } from '../../core/index.js';
import { member, sceneEachTest, syncWithSim, withSim } from './scene.js';
import { IMSI, terminalData, userArea } from './world.js';

const s = sceneEachTest();

describe('[0060] / [0068]: a record created again after its deletion (issue 21)', () => {
  it('is applied as a new version: no conflict, no copy, no conflict notice', async () => {
    const a = await member(s, 'a');
    const b = await member(s, 'b');
    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob v1')));
    await syncWithSim(s, a);
    await withSim(s, a, () => a.terminal.delete('contacts', 'bob'));
    await syncWithSim(s, a);
    expect(await userArea(s.world)).toEqual({});

    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob again')));
    const report = await syncWithSim(s, a);
    expect(report.conflicts).toEqual([]);
    expect(report.uploaded.map((u) => u.id)).toEqual(['bob']);
    expect(a.agent.notices.filter((n) => n.kind === 'conflict')).toEqual([]);
    expect(await userArea(s.world)).toEqual({ 'contacts/bob': 'Bob again' });

    // Another terminal that never saw the first version creates it again after the next deletion.
    await withSim(s, a, () => a.terminal.delete('contacts', 'bob'));
    await syncWithSim(s, a);
    await withSim(s, b, () => b.terminal.edit('contacts', 'bob', utf8('Bob from B')));
    const fromB = await syncWithSim(s, b);
    expect(fromB.conflicts).toEqual([]);
    expect(b.agent.notices.filter((n) => n.kind === 'conflict')).toEqual([]);
    await syncWithSim(s, a);
    expect(await userArea(s.world)).toEqual({ 'contacts/bob': 'Bob from B' });
    expect(await terminalData(a)).toEqual({ 'contacts/bob': 'Bob from B' });
    for (const n of [...a.agent.notices, ...b.agent.notices]) {
      if (n.kind === 'conflict') expect(n.detail).not.toContain('undefined');
    }
  });

  it('one created before another terminal deleted it (found by the convergence model) loses to the later deletion, kept as a copy', async () => {
    const a = await member(s, 'a');
    const b = await member(s, 'b');
    // B creates it without ever having seen it; A later creates, uploads and deletes it.
    const fromB = await withSim(s, b, () => b.terminal.edit('contacts', 'bob', utf8('Bob from B')));
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(fromB.editedAt), { interval: 1 });
    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob from A')));
    await syncWithSim(s, a);
    await withSim(s, a, () => a.terminal.delete('contacts', 'bob'));
    await syncWithSim(s, a);
    const report = await syncWithSim(s, b);
    expect(report.conflicts.map((c) => c.outcome)).toEqual(['lost']);
    const area = await userArea(s.world);
    expect(Object.keys(area).filter((k) => k === 'contacts/bob')).toEqual([]);
    expect(Object.values(area)).toEqual(['Bob from B']);
    expect(await terminalData(b)).toEqual(area);
  });

  it('an edit that wins over a deletion says so, never "saved as undefined"', async () => {
    const a = await member(s, 'a');
    const b = await member(s, 'b');
    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob v1')));
    await syncWithSim(s, a);
    await syncWithSim(s, b);
    await withSim(s, b, () => b.terminal.delete('contacts', 'bob'));
    await syncWithSim(s, b);
    // A's edit comes after B's deletion: the clock has passed the deletion's stamp on the server.
    const deletion = await s.world.server.store.getRecord(IMSI, 'contacts', 'bob');
    expect(deletion?.body).toBeNull();
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(deletion?.editedAt ?? 0), { interval: 1 });
    await withSim(s, a, () => a.terminal.edit('contacts', 'bob', utf8('Bob edited')));
    const report = await syncWithSim(s, a);
    expect(report.conflicts.map((c) => c.outcome)).toEqual(['won']);
    const notice = a.agent.notices.find((n) => n.kind === 'conflict');
    expect(notice?.kind === 'conflict' && notice.detail).toBe(
      "kept this terminal's version; another terminal had deleted the record",
    );
    expect(await userArea(s.world)).toEqual({ 'contacts/bob': 'Bob edited' });
  });
});
