import { describe, expect, it } from 'vitest';
import { utf8 } from '../../core/index.js';
import { member, sceneEachTest } from './scene.js';
import { IMSI, userArea } from './world.js';

const s = sceneEachTest();

describe('FIG. 16 demount upload holds the link only so long', () => {
  it('a demount upload cut by its time limit resumes at the next mount, each record applied once', async () => {
    // 1 ms of link after the card leaves: far too little for 3,000 records in 12 batches.
    const t = await member(s, 'a', { options: { demountHoldMs: 1, batchBytes: 8 * 1024 } });
    t.terminal.start();
    await s.world.insert(t, s.sim);
    for (let i = 0; i < 3000; i++) await t.terminal.edit('contacts', `c${i}`, utf8(`contact number ${i}`));
    await s.world.remove(t);
    expect(t.agent.notices).toContainEqual({
      kind: 'sync-rejected',
      reason: expect.stringContaining('stopped after 1 ms'),
    });
    const partial = Object.keys(await userArea(s.world)).length;
    expect(partial).toBeLessThan(3000);
    expect(await t.terminal.records.dirtyCount()).toBeGreaterThan(0);

    await s.world.insert(t, s.sim);
    expect(Object.keys(await userArea(s.world))).toHaveLength(3000);
    expect(await t.terminal.records.dirtyCount()).toBe(0);
    const log = await s.world.server.store.changeLog(IMSI, 0, 10_000);
    expect(log.filter((e) => e.origin === t.terminal.terminalId)).toHaveLength(3000);
  });
});
