/**
 * What a sync is asked to do (SyncPlan), what started it (Trigger) and what
 * it did (SyncReport): shared by the runner, the triggers and the callers.
 */
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
