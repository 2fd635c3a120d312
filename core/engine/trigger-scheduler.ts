import {
  type Battery,
  type BatteryReading,
  type Clock,
  type IdleSensor,
  type IdleState,
  isHalError,
  type TimerId,
  type Unsubscribe,
  type UserAgent,
} from '../../hal/index.js';
import { SyncError } from '../errors.js';
import type { SyncPlan, SyncReport, Trigger } from './sync-report.js';
import type { TriggerSettings } from './trigger-settings.js';

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
  /** A trigger's own work failed outside a sync (the NV store, the sensor): told once, never thrown. */
  failed(trigger: Trigger, error: unknown): void;
  /** A number in [0, 1) (Math.random by default): spreads the retry waits. */
  random?: () => number;
}

/**
 * A sync that failed because the server was out of reach, which a later try
 * may get through: no answer in time, the link down (including a connect
 * that found nothing listening), or the server answering `unavailable`. A
 * refusal is not: the same credentials get the same answer.
 */
export function isOutOfReach(error: unknown): boolean {
  if (error instanceof SyncError) {
    return (
      error.kind === 'timeout' ||
      error.kind === 'link-down' ||
      (error.kind === 'server-refused' && error.code === 'unavailable')
    );
  }
  return isHalError(error) && (error.kind === 'timeout' || error.kind === 'link-down');
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
  /** The retry waiting to run, and the length of the wait it was given (doubled after each failure). */
  private retryTimer: TimerId | undefined;
  private retryDelayMs = 0;
  private started = false;

  constructor(
    private readonly host: TriggerHost,
    private readonly settings: TriggerSettings,
  ) {}

  start(): void {
    this.started = true;
    const { clock } = this.host;
    const s = this.settings;
    if (s.periodicMs !== undefined) {
      this.timers.push(clock.setInterval(() => this.fire('periodic', this.periodic()), s.periodicMs));
    }
    if (s.afterEditMs !== undefined || s.dirtyThreshold !== undefined) {
      this.off.push(this.host.onEdit(() => this.fire('update', this.edited())));
    }
    if (s.batteryLow !== undefined && this.host.battery !== undefined) {
      this.off.push(
        this.host.battery.onLow(s.batteryLow.percent, (r) => this.fire('battery-low', this.batteryLow(r))),
      );
    }
    if (s.idle !== undefined && this.host.idle !== undefined) {
      const sensor = this.host.idle;
      this.fire(
        'idle',
        sensor.read().then((state) => {
          this.idleNow = this.isIdle(state);
        }),
      );
      this.off.push(sensor.onChange((state) => this.idleChanged(state)));
      this.timers.push(clock.setInterval(() => this.fire('idle', this.idleCheck()), s.idle.checkEveryMs));
    }
    if (s.remindUnsyncedMs !== undefined) {
      this.timers.push(clock.setInterval(() => this.fire('periodic', this.remind()), s.remindUnsyncedMs));
    }
  }

  stop(): void {
    this.started = false;
    this.cancelRetry();
    this.retryDelayMs = 0;
    for (const off of this.off.splice(0)) off();
    for (const id of this.timers.splice(0)) this.host.clock.clearInterval(id);
    if (this.burst) this.host.clock.clearTimeout(this.burst.timer);
    this.burst = undefined;
  }

  /**
   * A sync failed (any trigger, the user's too): with `retry` set and the
   * server out of reach, another sync is due after the next wait of the
   * back-off. A demount's upload is not retried here: the SIM is gone, and
   * the next mount uploads what stayed behind.
   */
  syncFailed(trigger: Trigger, error: unknown): void {
    const retry = this.settings.retry;
    if (!this.started || retry === undefined || trigger === 'demount' || !isOutOfReach(error)) return;
    if (this.retryTimer !== undefined) return;
    const maxMs = retry.maxMs ?? 64 * retry.firstMs;
    this.retryDelayMs = Math.min(maxMs, this.retryDelayMs === 0 ? retry.firstMs : 2 * this.retryDelayMs);
    const random = this.host.random ?? Math.random;
    const wait = Math.round(this.retryDelayMs * (0.5 + random() / 2));
    this.retryTimer = this.host.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.fire('retry', this.automatic('retry', {}, true));
    }, wait);
  }

  /** A sync went through: the back-off starts again from `firstMs`, and a retry still waiting is not needed. */
  syncSucceeded(): void {
    this.cancelRetry();
    this.retryDelayMs = 0;
  }

  /** The wait of the retry now pending, in ms (0: none pending). */
  get retryPendingMs(): number {
    return this.retryTimer === undefined ? 0 : this.retryDelayMs;
  }

  private cancelRetry(): void {
    if (this.retryTimer !== undefined) this.host.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Every trigger's work ends here: a failure is handed to the host, never left as an unhandled rejection. */
  private fire(trigger: Trigger, work: Promise<unknown>): void {
    work.catch((error: unknown) => this.host.failed(trigger, error));
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
    this.burst = { firstAt, timer: clock.setTimeout(() => this.fire('update', this.burstEnded()), delay) };
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
      await this.edited();
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
    if (this.idleNow && this.idleWaiting && this.settings.idle?.waitForNotice)
      this.fire('idle', this.idleCheck());
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
