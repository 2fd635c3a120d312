import type { Category } from '../protocol/index.js';
import type { IncomingChange } from '../store/record-store.js';
import type { StopReason, SyncLimits } from './budget.js';
import type { Conflict } from './run-context.js';

export interface SyncReport {
  trigger: Trigger;
  uploaded: { category: Category; id: string; seq: number }[];
  downloaded: IncomingChange[];
  conflicts: Conflict[];
  setAside: { category: Category; id: string; reason: string }[];
  /** Bytes on the wire both ways, MQTT framing included. */
  bytesSent: number;
  bytesReceived: number;
  /** [0085]: record data moved, the measure the byte limits apply to. */
  upBytes: number;
  downBytes: number;
  /** False when a limit or an interruption stopped the sync early; the next one resumes. */
  complete: boolean;
  stoppedBy?: StopReason;
}

/** What started a sync. */
export type Trigger =
  /** FIG. 16 / [0043]: the SIM was mounted. */
  | 'mount'
  /** FIG. 16 / [0042]: the SIM was removed; upload with the link held. */
  | 'demount'
  /** [0042] a5: the user asked. */
  | 'user'
  /** [0042] a1: the user asked for an upload just before removing the SIM. */
  | 'before-demount'
  /** [0042] a2. */
  | 'periodic'
  /** [0042] a3: a burst of edits ended. */
  | 'update'
  /** [0042] a4: unsynced changes passed the threshold. */
  | 'volume'
  /** FIG. 22. */
  | 'battery-low'
  /** FIG. 21. */
  | 'idle'
  /** A sync that failed because the server was out of reach, tried again (TriggerSettings.retry). */
  | 'retry'
  /** [0043]: a record of a category with server updates was opened. */
  | 'access'
  /** FIG. 20 S84–S85: the upload before a collective erase. */
  | 'erase';

/** What one sync does. */
export interface SyncPlan {
  /** Default true. */
  upload?: boolean;
  /** Default true. */
  download?: boolean;
  /** [0085]. */
  limits?: SyncLimits;
  /** Checked between batches and pages: true stops the sync there (FIG. 21: the user came back). */
  interrupted?: () => boolean;
  /** [0043]: download only this category. */
  category?: Category;
}

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
