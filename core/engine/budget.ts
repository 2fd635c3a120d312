import type { Clock } from '../../hal/index.js';

/**
 * [0085]: upper limits on one sync's transfer, "provided independently for
 * uploading and downloading, or for the total sum". Bytes are record data
 * (bodies) moved; times are ms from the start of the phase (up, down) or of
 * the whole sync (total). Absent = no limit.
 */
export interface SyncLimits {
  upBytes?: number;
  downBytes?: number;
  totalBytes?: number;
  upMs?: number;
  downMs?: number;
  totalMs?: number;
}

export type StopReason =
  | 'up-bytes'
  | 'down-bytes'
  | 'total-bytes'
  | 'up-time'
  | 'down-time'
  | 'total-time'
  /** The terminal stopped being idle (FIG. 21), or the caller asked to stop. */
  | 'interrupted';

/**
 * Keeps a sync inside its limits. Work is asked for in whole batches and
 * pages, each committed on its own, so stopping between two of them loses
 * nothing and the next sync resumes where this one stopped.
 */
export class Budget {
  up = 0;
  down = 0;
  /** The first reason a phase stopped early, for the report. */
  stopped: StopReason | undefined;
  /** Up and down stop on their own limits; total limits and interruptions stop both. */
  private readonly halted = new Set<'up' | 'down'>();
  private readonly started: number;
  private phaseStarted: number;

  constructor(
    private readonly limits: SyncLimits,
    private readonly clock: Clock,
    private readonly interrupted: () => boolean = () => false,
  ) {
    this.started = clock.now();
    this.phaseStarted = this.started;
  }

  static unlimited(clock: Clock): Budget {
    return new Budget({}, clock);
  }

  get limited(): boolean {
    return Object.values(this.limits).some((v) => v !== undefined);
  }

  /** Marks the start of the upload or download phase (their time limits count from here). */
  phase(): void {
    this.phaseStarted = this.clock.now();
  }

  /** Bytes the upload may still send now, 0 when it must stop (and why, in `stopped`). */
  upAllowance(): number {
    if (!this.timeLeft('up', this.limits.upMs, 'up-time')) return 0;
    return this.bytesLeft('up', this.limits.upBytes, this.up, 'up-bytes');
  }

  downAllowance(): number {
    if (!this.timeLeft('down', this.limits.downMs, 'down-time')) return 0;
    return this.bytesLeft('down', this.limits.downBytes, this.down, 'down-bytes');
  }

  /** The next batch would not fit the upload allowance: the upload stops here. */
  refuseUp(): void {
    this.halt('up', this.limits.upBytes !== undefined ? 'up-bytes' : 'total-bytes');
  }

  /** The next change would not fit the download allowance: the download stops here. */
  refuseDown(): void {
    this.halt('down', this.limits.downBytes !== undefined ? 'down-bytes' : 'total-bytes');
  }

  private halt(phase: 'up' | 'down' | 'both', reason: StopReason): void {
    this.stopped ??= reason;
    if (phase !== 'down') this.halted.add('up');
    if (phase !== 'up') this.halted.add('down');
  }

  private timeLeft(phase: 'up' | 'down', phaseMs: number | undefined, reason: StopReason): boolean {
    if (this.halted.has(phase)) return false;
    if (this.interrupted()) {
      this.halt('both', 'interrupted');
      return false;
    }
    const now = this.clock.now();
    if (phaseMs !== undefined && now - this.phaseStarted >= phaseMs) {
      this.halt(phase, reason);
      return false;
    }
    if (this.limits.totalMs !== undefined && now - this.started >= this.limits.totalMs) {
      this.halt('both', 'total-time');
      return false;
    }
    return true;
  }

  private bytesLeft(phase: 'up' | 'down', cap: number | undefined, used: number, reason: StopReason): number {
    const own = cap === undefined ? Number.POSITIVE_INFINITY : cap - used;
    const total =
      this.limits.totalBytes === undefined
        ? Number.POSITIVE_INFINITY
        : this.limits.totalBytes - this.up - this.down;
    const left = Math.min(own, total);
    if (left <= 0) {
      if (own <= total) this.halt(phase, reason);
      else this.halt('both', 'total-bytes');
      return 0;
    }
    return left;
  }
}
