import { describe, expect, it } from 'vitest';
import { HalError, type Notice, sleep } from '../../hal/index.js';
import { ScriptedUserAgent, SimBattery, SimIdleSensor, VirtualClock } from '../../hal-sim/index.js';
import { SyncError } from '../errors.js';
import type { SyncPlan, SyncReport, Trigger } from './sync-report.js';
import { isOutOfReach, type TriggerHost, TriggerScheduler } from './trigger-scheduler.js';
import type { TriggerSettings } from './trigger-settings.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Run {
  trigger: Trigger;
  plan: SyncPlan;
  at: number;
  end?: number;
}

/** A terminal stand-in: syncs take `syncMs` of virtual time and clear the dirty count. */
function world(
  settings: TriggerSettings,
  options: {
    syncMs?: number;
    permit?: boolean[];
    /** The next syncs fail with these errors, one each, in order (as Terminal reports them: syncFailed). */
    failWith?: unknown[];
    dirtyCount?: () => Promise<number>;
  } = {},
) {
  const clock = new VirtualClock();
  const battery = new SimBattery({ clock, percent: 80 });
  const idle = new SimIdleSensor();
  const agent = new ScriptedUserAgent({ permissions: options.permit ?? [] });
  const notices: Notice[] = agent.notices;
  const editListeners = new Set<() => void>();
  const runs: Run[] = [];
  let dirty = 0;
  let active = 0;
  let mounted = true;
  const failures: { trigger: Trigger; error: unknown }[] = [];
  const failWith = [...(options.failWith ?? [])];
  const host: TriggerHost = {
    clock,
    agent,
    battery,
    idle,
    ready: async () => mounted,
    syncing: () => active > 0,
    dirtyCount: options.dirtyCount ?? (async () => dirty),
    onEdit: (l) => {
      editListeners.add(l);
      return () => editListeners.delete(l);
    },
    run: async (trigger, plan) => {
      const run: Run = { trigger, plan, at: clock.now() };
      runs.push(run);
      active++;
      await sleep(clock, options.syncMs ?? 1000);
      active--;
      run.end = clock.now();
      const error = failWith.shift();
      if (error !== undefined) {
        scheduler.syncFailed(trigger, error);
        return undefined;
      }
      if (plan.upload !== false) dirty = 0;
      scheduler.syncSucceeded();
      return { trigger } as SyncReport;
    },
    failed: (trigger, error) => failures.push({ trigger, error }),
    random: () => 0.999_999,
  };
  const scheduler = new TriggerScheduler(host, settings);
  scheduler.start();
  return {
    clock,
    battery,
    idle,
    agent,
    notices,
    runs,
    failures,
    scheduler,
    /** A local edit; lets the scheduler react before time moves on. */
    async edit(count = 1) {
      dirty += count;
      for (const l of editListeners) l();
      await clock.settle();
    },
    unmount() {
      mounted = false;
    },
  };
}

const triggers = (runs: Run[]) => runs.map((r) => r.trigger);

describe('[0042] upload triggers on the virtual clock', () => {
  it('a2: uploads every period while the SIM is mounted, hours of schedule in milliseconds', async () => {
    const w = world({ periodicMs: 30 * MIN });
    await w.clock.advance(10 * HOUR);
    expect(w.runs).toHaveLength(20);
    expect(w.runs.every((r) => r.plan.download === false)).toBe(true);
    expect(w.runs[0]?.at).toBe(w.clock.now() - 9.5 * HOUR);
    w.unmount();
    await w.clock.advance(2 * HOUR);
    expect(w.runs).toHaveLength(20);
    expect(w.scheduler.skipped['not-ready']).toBe(4);
  });

  it('a2: a periodic tick never overlaps a sync still running: it is skipped', async () => {
    const w = world({ periodicMs: 10 * MIN }, { syncMs: 25 * MIN });
    await w.clock.advance(2 * HOUR);
    for (const [i, run] of w.runs.entries()) {
      const next = w.runs[i + 1];
      if (next && run.end !== undefined) expect(next.at).toBeGreaterThanOrEqual(run.end);
    }
    expect(w.runs.length).toBe(4);
    expect(w.scheduler.skipped.busy).toBeGreaterThanOrEqual(7);
  });

  it('a3: a burst of edits is one upload, after the quiet delay', async () => {
    const w = world({ afterEditMs: 5000 });
    for (let i = 0; i < 20; i++) {
      await w.edit();
      await w.clock.advance(1000);
    }
    expect(w.runs).toHaveLength(0);
    await w.clock.advance(5000);
    expect(triggers(w.runs)).toEqual(['update']);
    await w.clock.advance(HOUR);
    expect(w.runs).toHaveLength(1);
  });

  it('a3: an endless trickle of edits still uploads by the maximum delay', async () => {
    const w = world({ afterEditMs: 5000, afterEditMaxMs: 60_000 });
    for (let i = 0; i < 150; i++) {
      await w.edit();
      await w.clock.advance(1000);
    }
    await w.clock.advance(10_000);
    // 150 s of edits one second apart: uploads by 60 s, by 120 s, and after the last edit.
    expect(triggers(w.runs)).toEqual(['update', 'update', 'update']);
  });

  it('a4: uploads as soon as the unsynced changes reach the threshold', async () => {
    const w = world({ dirtyThreshold: 10 });
    await w.edit(9);
    await w.clock.advance(HOUR);
    expect(w.runs).toHaveLength(0);
    await w.edit();
    await w.clock.advance(1);
    expect(triggers(w.runs)).toEqual(['volume']);
  });

  it('a6: combined, a3 coalesces small bursts, a4 cuts a big one short and a2 covers the rest', async () => {
    const w = world({ afterEditMs: 10_000, dirtyThreshold: 50, periodicMs: HOUR });
    await w.edit(3);
    await w.clock.advance(20_000);
    await w.edit(60);
    await w.clock.advance(1);
    await w.clock.advance(HOUR);
    expect(triggers(w.runs)).toEqual(['update', 'volume', 'periodic']);
  });

  it('[0042]: automatic syncs ask the user first when set to, and do nothing on a no', async () => {
    const w = world({ periodicMs: HOUR, askPermission: true }, { permit: [false, true] });
    await w.clock.advance(2 * HOUR);
    expect(triggers(w.runs)).toEqual(['periodic']);
    expect(w.scheduler.skipped.refused).toBe(1);
    expect(w.agent.prompts.filter((p) => p.kind === 'permission')).toHaveLength(2);
  });

  it('[0044]: in manual mode reminds the user periodically of changes not on the server', async () => {
    const w = world({ remindUnsyncedMs: 4 * HOUR });
    await w.clock.advance(4 * HOUR);
    expect(w.notices).toEqual([]);
    await w.edit(3);
    await w.clock.advance(8 * HOUR);
    expect(w.notices).toEqual([
      { kind: 'unsynced-changes', count: 3 },
      { kind: 'unsynced-changes', count: 3 },
    ]);
    expect(w.runs).toEqual([]);
  });
});

describe('FIG. 22: battery low', () => {
  it('the battery curve crossing the threshold mid-session uploads once, without download, notifying before', async () => {
    const w = world({ batteryLow: { percent: 15 }, periodicMs: HOUR });
    w.battery.script([
      { atMs: 20 * MIN, percent: 40 },
      { atMs: 40 * MIN, percent: 16 },
      { atMs: 50 * MIN, percent: 14 },
      { atMs: 55 * MIN, percent: 9 },
    ]);
    await w.clock.advance(59 * MIN);
    expect(triggers(w.runs)).toEqual(['battery-low']);
    expect(w.runs[0]?.at).toBe(w.clock.now() - 9 * MIN);
    expect(w.runs[0]?.plan.download).toBe(false);
    expect(w.notices).toEqual([{ kind: 'battery-low', percent: 14, when: 'before' }]);
  });

  it('[0091]: notifies after, or asks first, per setting; recharged and low again syncs again', async () => {
    const after = world({ batteryLow: { percent: 20, notify: 'after', download: true } });
    after.battery.set(19);
    await after.clock.settle();
    await after.clock.advance(5000);
    expect(after.notices).toEqual([{ kind: 'battery-low', percent: 19, when: 'after' }]);
    expect(after.runs[0]?.plan.download).toBe(true);
    after.battery.set(90, true);
    after.battery.set(18, false);
    await after.clock.settle();
    await after.clock.advance(5000);
    expect(after.runs).toHaveLength(2);

    const ask = world({ batteryLow: { percent: 20, notify: 'ask' } }, { permit: [false] });
    ask.battery.set(10);
    await ask.clock.settle();
    await ask.clock.advance(5000);
    expect(ask.runs).toEqual([]);
    expect(ask.scheduler.skipped.refused).toBe(1);
  });

  it('does nothing while no SIM is mounted', async () => {
    const w = world({ batteryLow: { percent: 20 } });
    w.unmount();
    w.battery.set(5);
    await w.clock.advance(5000);
    expect(w.runs).toEqual([]);
  });
});

describe('FIG. 21: idle', () => {
  const idleSettings = (over: Partial<NonNullable<TriggerSettings['idle']>> = {}): TriggerSettings => ({
    idle: {
      checkEveryMs: 15 * MIN,
      inputIdleMs: 5 * MIN,
      needLidClosed: true,
      limits: { upBytes: 1000 },
      ...over,
    },
  });

  it('S91–S92: syncs at a check only when every set condition of [0081] holds, with the limits of [0085]', async () => {
    const w = world(idleSettings());
    await w.clock.advance(HOUR);
    expect(w.runs).toEqual([]);
    expect(w.scheduler.skipped['not-idle']).toBe(4);
    w.idle.set({ noForegroundWork: true, msSinceInput: 10 * MIN, lidClosed: false });
    await w.clock.advance(15 * MIN);
    expect(w.runs).toEqual([]);
    w.idle.set({ lidClosed: true });
    await w.clock.advance(15 * MIN);
    expect(triggers(w.runs)).toEqual(['idle']);
    expect(w.runs[0]?.plan.limits).toEqual({ upBytes: 1000 });
    expect(w.runs[0]?.plan.download).toBeUndefined();
  });

  it('[0087]: when set, starts at the idle notice instead of waiting for the next check', async () => {
    const w = world(idleSettings({ waitForNotice: true }));
    await w.clock.advance(16 * MIN);
    const at = w.clock.now();
    w.idle.goIdle();
    await w.clock.settle();
    expect(triggers(w.runs)).toEqual(['idle']);
    expect(w.runs[0]?.at).toBe(at);
  });

  it('an idle sync is told to stop as soon as the user is back', async () => {
    const w = world(idleSettings(), { syncMs: 10 * MIN });
    w.idle.goIdle();
    await w.clock.advance(16 * MIN);
    const interrupted = w.runs[0]?.plan.interrupted;
    expect(interrupted?.()).toBe(false);
    w.idle.goBusy();
    expect(interrupted?.()).toBe(true);
  });

  it('a check during a running idle sync does not start another', async () => {
    const w = world(idleSettings(), { syncMs: 40 * MIN });
    w.idle.goIdle();
    await w.clock.advance(2 * HOUR);
    // Checks at 15, 30, 45 min: one sync until 55 min; the next starts at the 60 min check.
    expect(w.runs.map((r) => (r.at - (w.runs[0]?.at ?? 0)) / MIN)).toEqual([0, 45, 90]);
  });
});

describe('retry with back-off while the server is out of reach (issue 16)', () => {
  const SEC = 1000;
  const down = () => new SyncError('link-down', 'connect ECONNREFUSED 127.0.0.1:1883');
  const retry = { afterEditMs: 5 * SEC, retry: { firstMs: 2 * SEC, maxMs: 16 * SEC } };

  it('tries again after 2, 4, 8, 16, 16 s while the link is down, then stops once a sync gets through', async () => {
    const w = world(retry, { syncMs: 0, failWith: [down(), down(), down(), down(), down(), down()] });
    const t0 = w.clock.now();
    await w.edit();
    await w.clock.advance(10 * MIN);
    const starts = w.runs.map((r) => (r.at - t0) / SEC);
    // The edit's upload at 5 s, then each retry one back-off after the previous failure.
    expect(starts).toEqual([5, 7, 11, 19, 35, 51, 67]);
    expect(triggers(w.runs)).toEqual(['update', 'retry', 'retry', 'retry', 'retry', 'retry', 'retry']);
    expect(w.scheduler.retryPendingMs).toBe(0);
  });

  it('a sync that gets through starts the back-off again from the first wait', async () => {
    const w = world(retry, { syncMs: 0, failWith: [down(), down(), down()] });
    const t0 = w.clock.now();
    await w.edit();
    await w.clock.advance(MIN);
    expect(w.runs.map((r) => (r.at - t0) / SEC)).toEqual([5, 7, 11, 19]);
    w.scheduler.syncFailed('user', down());
    expect(w.scheduler.retryPendingMs).toBe(2 * SEC);
  });

  it('each wait is drawn between half and all of its length, so terminals do not come back together', async () => {
    const clock = new VirtualClock();
    const waits: number[] = [];
    for (const r of [0, 0.5, 0.999]) {
      const scheduler = new TriggerScheduler(
        {
          clock,
          agent: new ScriptedUserAgent(),
          ready: async () => true,
          syncing: () => false,
          dirtyCount: async () => 0,
          onEdit: () => () => {},
          run: async (trigger) => {
            waits.push(clock.now() - started);
            return { trigger } as SyncReport;
          },
          failed: () => {},
          random: () => r,
        },
        { retry: { firstMs: 10 * SEC } },
      );
      scheduler.start();
      const started = clock.now();
      scheduler.syncFailed('mount', down());
      await clock.advance(MIN);
      scheduler.stop();
    }
    expect(waits).toEqual([5 * SEC, 7.5 * SEC, 9.995 * SEC]);
  });

  it('is not retried: a refusal, a demount upload, a missing card, or with retry unset', async () => {
    const w = world(retry, { syncMs: 0 });
    w.scheduler.syncFailed('mount', new SyncError('server-refused', 'wrong password', 'connect-refused'));
    w.scheduler.syncFailed('mount', new SyncError('auth-refused', 'PIN', 'pin-wrong'));
    w.scheduler.syncFailed('demount', down());
    w.scheduler.syncFailed('user', new SyncError('no-card', 'no SIM'));
    expect(w.scheduler.retryPendingMs).toBe(0);
    const plain = world({ afterEditMs: 5 * SEC }, { syncMs: 0 });
    plain.scheduler.syncFailed('mount', down());
    expect(plain.scheduler.retryPendingMs).toBe(0);
  });

  it('out of reach: timeouts, a broken link, the server unavailable, and the radio link HAL errors', () => {
    expect(isOutOfReach(new SyncError('timeout', 'no answer'))).toBe(true);
    expect(isOutOfReach(new SyncError('server-refused', 'busy', 'unavailable'))).toBe(true);
    expect(isOutOfReach(new HalError('link-down', 'ECONNREFUSED'))).toBe(true);
    expect(isOutOfReach(new HalError('timeout', 'connect'))).toBe(true);
    expect(isOutOfReach(new HalError('store-corrupt', 'nv'))).toBe(false);
    expect(isOutOfReach(new Error('other'))).toBe(false);
  });

  it('stop() drops a retry still waiting', async () => {
    const w = world(retry, { syncMs: 0 });
    w.scheduler.syncFailed('mount', down());
    w.scheduler.stop();
    await w.clock.advance(MIN);
    expect(w.runs).toEqual([]);
  });
});

describe('trigger work never floats (issue 17 item 5)', () => {
  it('a store that fails under a trigger is handed to the host once, not left as an unhandled rejection', async () => {
    const corrupt = new HalError('store-corrupt', 'nv/log: bad checksum at offset 4096');
    const w = world({ afterEditMs: 1000, dirtyThreshold: 5 }, { dirtyCount: () => Promise.reject(corrupt) });
    await w.edit();
    await w.clock.advance(MIN);
    expect(w.failures).toEqual([{ trigger: 'update', error: corrupt }]);
    expect(w.runs).toEqual([]);
  });
});
