import type { SyncLimits } from './budget.js';

/**
 * When syncs happen ([0042]–[0044], FIG. 21, FIG. 22); every trigger is off
 * unless set, except the mount and demount syncs of FIG. 16. Any combination
 * may be set (a6).
 */
export interface TriggerSettings {
  /**
   * At mount: 'sync' downloads and uploads (FIG. 16); 'check' ([0044],
   * manual mode) only tells the user what waits on either side; 'none'.
   * Default 'sync'.
   */
  onMount?: 'sync' | 'check' | 'none';
  /** [0042]: upload when the SIM is removed, the link held until done or a time limit. Default true. */
  onDemount?: boolean;
  /** a2: upload this often while the SIM is mounted; a tick during a running sync is skipped. */
  periodicMs?: number;
  /** a3: upload this long after the last edit of a burst (one upload per burst). */
  afterEditMs?: number;
  /** a3: but no later than this after the burst's first edit. Default 10 × afterEditMs. */
  afterEditMaxMs?: number;
  /** a4: upload as soon as this many changes are unsynced. */
  dirtyThreshold?: number;
  /** [0042]: ask the user before each automatic sync. */
  askPermission?: boolean;
  /**
   * [0043]: when a record is opened, ask the server whether its category has
   * updates and download them; at most once per `minIntervalMs` per category.
   */
  onAccess?: { minIntervalMs?: number };
  /** FIG. 22. */
  batteryLow?: {
    percent: number;
    /** [0091]: tell the user before, after, both, or ask first. Default 'before'. */
    notify?: 'before' | 'after' | 'both' | 'ask' | 'none';
    /** [0090]: download too. Default false. */
    download?: boolean;
  };
  /** FIG. 21. */
  idle?: {
    /** S91: how often to check. */
    checkEveryMs: number;
    /** [0081] (2): no user input for this long. Default 0. */
    inputIdleMs?: number;
    /** [0081] (1). Default true. */
    needNoForegroundWork?: boolean;
    /** [0081] (3). Default false. */
    needLidClosed?: boolean;
    /** [0085]. */
    limits?: SyncLimits;
    /** [0087]: also start as soon as the sensor reports idle, not only at the next check. */
    waitForNotice?: boolean;
  };
  /** [0044] manual mode: remind the user this often while local changes are not on the server. */
  remindUnsyncedMs?: number;
  /**
   * After a sync that failed because the server was out of reach (no
   * answer in time, the link down, the server `unavailable`), sync again
   * after `firstMs`, then after twice as long each time it fails again, up
   * to `maxMs` (default 64 × firstMs), until a sync succeeds. Each wait is
   * drawn between half and all of its length, so terminals that lost the
   * same server do not all come back at the same instant. A refusal (wrong
   * password, revoked) is never retried: trying again cannot change it.
   */
  retry?: { firstMs: number; maxMs?: number };
}
