import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../core/index.js';
import { SimBattery, SimIdleSensor, VirtualClock } from '../../hal-sim/index.js';
import { closeScene, member, type Scene, scene, syncWithSim, until, withSim } from './scene.js';
import { IMSI, userArea } from './world.js';

// The terminals and the server on virtual time: a trigger's delay passes when
// the test advances the clock, never by sleeping, so each schedule is exact.
let clock: VirtualClock;
let s: Scene;
beforeEach(async () => {
  clock = new VirtualClock();
  s = await scene({ clock });
});
afterEach(async () => {
  await closeScene(s);
});

const kb = (tag: string) => utf8(tag.padEnd(1000, '.'));

describe('[0042] triggers on a terminal with a real server', () => {
  it('a3: ten quick edits go up as one upload after the quiet delay', async () => {
    const a = await member(s, 'a', { options: { triggers: { afterEditMs: 150 } } });
    a.terminal.start();
    await s.world.insert(a, s.sim);
    for (let i = 0; i < 10; i++) await a.terminal.edit('contacts', `c${i}`, utf8(`C${i}`));
    // Quiet for 149 ms: nothing goes up yet; at 150 ms the burst has ended.
    await clock.advance(149);
    await a.terminal.settled();
    expect(a.reports.filter((r) => r.trigger === 'update')).toEqual([]);
    await clock.advance(1);
    await until(async () => (await a.terminal.records.dirtyCount()) === 0, 'the update upload');
    await a.terminal.settled();
    const updates = a.reports.filter((r) => r.trigger === 'update');
    expect(updates).toHaveLength(1);
    expect(updates[0]?.uploaded).toHaveLength(10);
    expect(updates[0]?.downloaded).toEqual([]);
  });

  it('a2 + a4 combined: the volume threshold uploads at once, the period picks up the rest', async () => {
    const a = await member(s, 'a', { options: { triggers: { dirtyThreshold: 5, periodicMs: 300 } } });
    a.terminal.start();
    await s.world.insert(a, s.sim);
    for (let i = 0; i < 5; i++) await a.terminal.edit('mail', `m${i}`, utf8(`M${i}`));
    await until(() => a.reports.some((r) => r.trigger === 'volume'), 'the volume upload');
    await a.terminal.settled();
    await a.terminal.edit('mail', 'late', utf8('late'));
    await clock.advance(300);
    await until(
      () => a.reports.some((r) => r.trigger === 'periodic' && r.uploaded.length === 1),
      'a periodic upload',
    );
    expect(Object.keys(await userArea(s.world))).toHaveLength(6);
  });
});

describe('FIG. 22: battery low', () => {
  it('the level crossing the threshold mid-session verifies the binding, uploads, skips the download, notifies first', async () => {
    const battery = new SimBattery({ percent: 60 });
    const a = await member(s, 'a', { battery, options: { triggers: { batteryLow: { percent: 15 } } } });
    const b = await member(s, 'b');
    a.terminal.start();
    await s.world.insert(a, s.sim);
    await a.terminal.edit('contacts', 'new', utf8('from A'));
    // Meanwhile the server got something from B (a twin SIM keeps A mounted; B edits and syncs with it).
    const twin = (await import('../../cli/sim-world.js')).SimWorld.sim();
    b.reader.insert(twin);
    await b.terminal.edit('mail', 'from-b', utf8('from B'));
    await b.terminal.sync();
    battery.set(30);
    battery.set(12);
    await until(() => a.reports.some((r) => r.trigger === 'battery-low'), 'the battery-low sync');
    await a.terminal.settled();
    const report = a.reports.find((r) => r.trigger === 'battery-low');
    expect(report?.uploaded.map((u) => u.id)).toEqual(['new']);
    expect(report?.downloaded).toEqual([]);
    expect(a.agent.notices.filter((n) => n.kind === 'battery-low')).toEqual([
      { kind: 'battery-low', percent: 12, when: 'before' },
    ]);
    expect((await userArea(s.world))['contacts/new']).toBe('from A');
    expect(await a.terminal.records.get('mail', 'from-b')).toBeUndefined();
  });
});

describe('FIG. 21: idle', () => {
  it('[0085]: byte caps cut a large sync into several idle syncs that resume, never exceeding a cap', async () => {
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      for (let i = 0; i < 8; i++) await b.terminal.edit('mail', `b${i}`, kb(`b${i}`));
    });
    await syncWithSim(s, b);
    const idle = new SimIdleSensor();
    const a = await member(s, 'a', {
      idle,
      options: {
        batchBytes: 1000,
        pageBytes: 1000,
        triggers: {
          onMount: 'none',
          idle: { checkEveryMs: 40, inputIdleMs: 60_000, limits: { upBytes: 3000, downBytes: 2500 } },
        },
      },
    });
    await withSim(s, a, async () => {
      for (let i = 0; i < 10; i++) await a.terminal.edit('contacts', `a${i}`, kb(`a${i}`));
    });
    a.terminal.start();
    await s.world.insert(a, s.sim);
    // Not idle yet: two checks run and skip, and nothing syncs.
    await clock.advance(80);
    await a.terminal.settled();
    expect(a.terminal.triggers.skipped['not-idle']).toBe(2);
    expect(a.reports).toEqual([]);
    idle.goIdle();
    // One idle check at a time, each sync over before the next check is due.
    const finished = () =>
      a.reports.some(
        (r) => r.trigger === 'idle' && r.complete && r.uploaded.length + r.downloaded.length === 0,
      );
    for (let checks = 0; !finished(); checks++) {
      expect(checks, 'idle syncs to finish the work').toBeLessThan(20);
      await clock.advance(40);
      await a.terminal.settled();
    }
    idle.goBusy();
    await a.terminal.settled();
    const idleRuns = a.reports.filter((r) => r.trigger === 'idle');
    expect(idleRuns.length).toBeGreaterThanOrEqual(4);
    for (const r of idleRuns) {
      expect(r.upBytes).toBeLessThanOrEqual(3000);
      expect(r.downBytes).toBeLessThanOrEqual(2500);
      expect(r.uploaded.length).toBeLessThanOrEqual(3);
    }
    expect(idleRuns[0]).toMatchObject({ complete: false, upBytes: 3000, downBytes: 2000 });
    expect(idleRuns[0]?.stoppedBy).toMatch(/bytes/);
    // Nothing was redone: each record went up once and came down once.
    const log = await s.world.server.store.changeLog(IMSI);
    const fromA = log.filter((e) => e.origin === a.terminal.terminalId).map((e) => e.recordId);
    expect(fromA.sort()).toEqual([...Array(10).keys()].map((i) => `a${i}`));
    const downs = idleRuns.flatMap((r) => r.downloaded.map((d) => d.id));
    expect(downs.sort()).toEqual([...Array(8).keys()].map((i) => `b${i}`));
    expect(await a.terminal.records.dirtyCount()).toBe(0);
  });
});

describe('[0043] / [0044]: download on access, and manual mode', () => {
  it('[0043]: opening a record asks the server about its category and downloads that category only', async () => {
    const a = await member(s, 'a', { options: { triggers: { onMount: 'none', onAccess: {} } } });
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      await b.terminal.edit('mail', 'm1', utf8('hello'));
      await b.terminal.edit('contacts', 'c1', utf8('Carol'));
    });
    await syncWithSim(s, b);
    a.terminal.start();
    await s.world.insert(a, s.sim);
    const opened = await a.terminal.open('mail', 'm1');
    expect(opened && fromUtf8(opened.body ?? new Uint8Array())).toBe('hello');
    expect(a.reports.map((r) => r.trigger)).toEqual(['access']);
    expect(await a.terminal.records.get('contacts', 'c1')).toBeUndefined();
    // The later full download still brings the rest and applies nothing twice.
    const full = await a.terminal.sync();
    expect(full.downloaded.map((d) => d.id)).toEqual(['c1']);
  });

  it('[0044]: at mount in manual mode the user hears of server updates and unsynced changes; nothing syncs', async () => {
    const a = await member(s, 'a', { options: { triggers: { onMount: 'check' } } });
    const b = await member(s, 'b');
    await withSim(s, b, async () => {
      await b.terminal.edit('mail', 'm1', utf8('hello'));
    });
    await syncWithSim(s, b);
    await withSim(s, a, async () => {
      await a.terminal.edit('contacts', 'mine', utf8('x'));
    });
    a.terminal.start();
    await s.world.insert(a, s.sim);
    expect(a.agent.notices).toContainEqual({ kind: 'server-updates' });
    expect(a.agent.notices).toContainEqual({ kind: 'unsynced-changes', count: 1 });
    expect(a.reports).toEqual([]);
    expect(await a.terminal.records.dirtyCount()).toBe(1);
  });

  it('[0042] a1: the user uploads just before removing the SIM; no demount upload is needed', async () => {
    const a = await member(s, 'a', { options: { triggers: { onDemount: false } } });
    a.terminal.start();
    await s.world.insert(a, s.sim);
    await a.terminal.edit('pim', 'meeting', utf8('10:00'));
    const report = await a.terminal.uploadBeforeDemount();
    expect(report).toMatchObject({ trigger: 'before-demount', downloaded: [] });
    expect(report.uploaded.map((u) => u.id)).toEqual(['meeting']);
    await s.world.remove(a);
    expect(a.reports.map((r) => r.trigger)).toEqual(['mount']);
  });
});
