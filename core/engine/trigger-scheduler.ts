import type {
  Battery,
  BatteryReading,
  Clock,
  IdleSensor,
  IdleState,
  TimerId,
  Unsubscribe,
  UserAgent,
} from '../../hal/index.js';
import type { SyncPlan, SyncReport, Trigger, TriggerSettings } from './trigger-settings.js';

/** What the scheduler needs of a terminal. */
export interface TriggerHost {
  clock: Clock;
  agent: UserAgent;
  battery?: Battery | undefined;
  idle?: IdleSensor | undefined;
  /** A SIM is mounted and the terminal is registered: automatic syncs may run. */
  ready(): Promise<boolean>;
  /** A sync is running or waiting to run. */
  syncing(): boolean;
  dirtyCount(): Promise<number>;
  onEdit(listener: () => void): Unsubscribe;
  /** Runs a sync; resolves undefined when it failed (the host has told the user). */
  run(trigger: Trigger, plan: SyncPlan): Promise<SyncReport | undefined>;
}

export type SkipReason = 'not-ready' | 'busy' | 'refused' | 'not-idle';

/**
 * The automatic triggers of [0042]–[0044], FIG. 21 and FIG. 22, driven only
 * by the HAL clock, battery and idle sensor. Syncs themselves never overlap
 * (the terminal runs one at a time); on top of that a periodic tick that
 * finds a sync running is skipped rather than queued.
 */
export class TriggerScheduler {
  /** Why triggers did not start a sync, counted (for tests and diagnostics). */
  readonly skipped: Record<SkipReason, number> = { 'not-ready': 0, busy: 0, refused: 0, 'not-idle': 0 };
  private readonly off: Unsubscribe[] = [];
  private readonly timers: TimerId[] = [];
  private burst: { timer: TimerId; firstAt: number } | undefined;
  private idleNow = false;
  private idleRunning = false;
  private idleWaiting = false;

  constructor(
    private readonly host: TriggerHost,
    private readonly settings: TriggerSettings,
  ) {}

  start(): void {
    const { clock } = this.host;
    const s = this.settings;
    if (s.periodicMs !== undefined) {
      this.timers.push(clock.setInterval(() => void this.periodic(), s.periodicMs));
    }
    if (s.afterEditMs !== undefined || s.dirtyThreshold !== undefined) {
      this.off.push(this.host.onEdit(() => void this.edited()));
    }
    if (s.batteryLow !== undefined && this.host.battery !== undefined) {
      this.off.push(this.host.battery.onLow(s.batteryLow.percent, (r) => void this.batteryLow(r)));
    }
    if (s.idle !== undefined && this.host.idle !== undefined) {
      const sensor = this.host.idle;
      void sensor.read().then((state) => {
        this.idleNow = this.isIdle(state);
      });
      this.off.push(sensor.onChange((state) => this.idleChanged(state)));
      this.timers.push(clock.setInterval(() => void this.idleCheck(), s.idle.checkEveryMs));
    }
    if (s.remindUnsyncedMs !== undefined) {
      this.timers.push(clock.setInterval(() => void this.remind(), s.remindUnsyncedMs));
    }
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
    for (const id of this.timers.splice(0)) this.host.clock.clearInterval(id);
    if (this.burst) this.host.clock.clearTimeout(this.burst.timer);
    this.burst = undefined;
  }

  /** Starts an automatic sync unless the SIM is away, another sync runs (`skipIfBusy`), or the user says no. */
  private async automatic(
    trigger: Trigger,
    plan: SyncPlan,
    skipIfBusy: boolean,
  ): Promise<SyncReport | undefined> {
    if (skipIfBusy && this.host.syncing()) return this.skip('busy');
    if (!(await this.host.ready())) return this.skip('not-ready');
    if (
      this.settings.askPermission &&
      !(await this.host.agent.askPermission(`Synchronize now (${trigger})?`))
    ) {
      return this.skip('refused');
    }
    return this.host.run(trigger, plan);
  }

  private skip(reason: SkipReason): undefined {
    this.skipped[reason]++;
    return undefined;
  }

  /** a2. */
  private async periodic(): Promise<void> {
    await this.automatic('periodic', { download: false }, true);
  }

  /** a3 / a4: coalesce a burst of edits into one upload; pass the volume threshold at once. */
  private async edited(): Promise<void> {
    const { clock } = this.host;
    const s = this.settings;
    if (s.dirtyThreshold !== undefined && (await this.host.dirtyCount()) >= s.dirtyThreshold) {
      this.endBurst();
      await this.automatic('volume', { download: false }, false);
      return;
    }
    if (s.afterEditMs === undefined) return;
    const firstAt = this.burst?.firstAt ?? clock.now();
    if (this.burst) clock.clearTimeout(this.burst.timer);
    const latest = firstAt + (s.afterEditMaxMs ?? 10 * s.afterEditMs);
    const delay = Math.max(0, Math.min(s.afterEditMs, latest - clock.now()));
    this.burst = { firstAt, timer: clock.setTimeout(() => void this.burstEnded(), delay) };
  }

  private endBurst(): void {
    if (this.burst) this.host.clock.clearTimeout(this.burst.timer);
    this.burst = undefined;
  }

  private async burstEnded(): Promise<void> {
    this.burst = undefined;
    if (this.host.syncing()) {
      // Try again after another quiet delay rather than queue behind the running sync.
      this.skipped.busy++;
      void this.edited();
      return;
    }
    if ((await this.host.dirtyCount()) === 0) return;
    await this.automatic('update', { download: false }, false);
  }

  /** FIG. 22 S101–S105, with the notices of [0091]. */
  private async batteryLow(reading: BatteryReading): Promise<void> {
    const s = this.settings.batteryLow;
    if (s === undefined) return;
    if (!(await this.host.ready())) {
      this.skipped['not-ready']++;
      return;
    }
    const notify = s.notify ?? 'before';
    if (notify === 'ask' && !(await this.host.agent.askPermission('Battery low: upload your changes now?'))) {
      this.skipped.refused++;
      return;
    }
    if (notify === 'before' || notify === 'both') {
      this.host.agent.notify({ kind: 'battery-low', percent: reading.percent, when: 'before' });
    }
    const report = await this.host.run('battery-low', { download: s.download ?? false });
    if (report !== undefined && (notify === 'after' || notify === 'both')) {
      this.host.agent.notify({ kind: 'battery-low', percent: reading.percent, when: 'after' });
    }
  }

  private isIdle(state: IdleState): boolean {
    const s = this.settings.idle;
    if (s === undefined) return false;
    if ((s.needNoForegroundWork ?? true) && !state.noForegroundWork) return false;
    if (state.msSinceInput < (s.inputIdleMs ?? 0)) return false;
    if (s.needLidClosed && !state.lidClosed) return false;
    return true;
  }

  private idleChanged(state: IdleState): void {
    this.idleNow = this.isIdle(state);
    // [0087]: "another means is provided to detect that the terminal becomes idle".
    if (this.idleNow && this.idleWaiting && this.settings.idle?.waitForNotice) void this.idleCheck();
  }

  /** FIG. 21 S91–S96: idle → verify binding and sync within the limits of [0085]. */
  private async idleCheck(): Promise<void> {
    if (this.idleRunning || this.host.idle === undefined) return;
    this.idleNow = this.isIdle(await this.host.idle.read());
    if (!this.idleNow) {
      // S92 No: retried at the next check, or at the sensor's idle notice ([0087]).
      this.idleWaiting = true;
      this.skipped['not-idle']++;
      return;
    }
    this.idleWaiting = false;
    this.idleRunning = true;
    try {
      await this.automatic(
        'idle',
        { limits: this.settings.idle?.limits ?? {}, interrupted: () => !this.idleNow },
        true,
      );
    } finally {
      this.idleRunning = false;
    }
  }

  /** [0044]: remind the user of local changes not yet on the server. */
  private async remind(): Promise<void> {
    const count = await this.host.dirtyCount();
    if (count > 0) this.host.agent.notify({ kind: 'unsynced-changes', count });
  }
}
