import type { Unsubscribe } from '../../hal/index.js';
import type { SyncReport, Trigger } from './sync-report.js';

/**
 * Syncs started by triggers rather than awaited by a caller: each report goes
 * to the listeners, each failure to `onFailure`, and `settled` waits for all.
 */
export class BackgroundSyncs {
  private readonly running = new Set<Promise<void>>();
  private readonly listeners = new Set<(report: SyncReport) => void>();

  constructor(private readonly onFailure: (trigger: Trigger, error: unknown) => void) {}

  onReport(listener: (report: SyncReport) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every run started so far has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Starts a run and forgets it (its outcome goes to the listeners or `onFailure`). */
  track(trigger: Trigger, run: () => Promise<SyncReport | undefined>): void {
    void this.launch(trigger, run);
  }

  /** Starts a run; resolves its report, or undefined when it failed or did not sync. */
  launch(trigger: Trigger, run: () => Promise<SyncReport | undefined>): Promise<SyncReport | undefined> {
    let report: SyncReport | undefined;
    const done = run()
      .then((r) => {
        report = r;
        if (r !== undefined) for (const listener of this.listeners) listener(r);
      })
      .catch((e) => this.onFailure(trigger, e))
      .finally(() => this.running.delete(done));
    this.running.add(done);
    return done.then(() => report);
  }
}
