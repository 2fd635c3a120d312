import type { UserAgent } from '../../hal/index.js';
import type { ServerSession } from '../net/server-session.js';
import type { Category } from '../protocol/index.js';
import type { PartialFetches } from '../store/partial-fetches.js';
import type { RecordStore } from '../store/record-store.js';
import type { Budget } from './budget.js';

// What one sync run works with, and what it reports: shared by its upload
// (sync-upload.ts) and its download (sync-download.ts).

export interface Conflict {
  category: Category;
  id: string;
  /** 'won': our version is current, the other one kept as `copyId`; 'lost': the reverse. */
  outcome: 'won' | 'lost';
  copyId: string | undefined;
}

export interface UploadResult {
  uploaded: { category: Category; id: string; seq: number }[];
  conflicts: Conflict[];
  setAside: { category: Category; id: string; reason: string }[];
}

export interface RunContext {
  session: ServerSession;
  store: RecordStore;
  agent: UserAgent;
  subscriberId: string;
  categories: readonly Category[];
  /** Body bytes per upload batch (several batches when more is dirty). */
  batchBytes: number;
  /**
   * The fewest body bytes of a batch or part the server refused as too large
   * in this sync (a server whose messages are smaller than ours): the
   * batches and parts that follow are made at most half of it.
   */
  refusedBytes?: number;
  /** Body bytes per download page. */
  pageBytes: number;
  /** [0085]: this sync's limits, and what it moved so far. */
  budget: Budget;
  terminalId: string;
  /** [0094]: larger bodies of these categories come down as stubs. */
  stubs?: { above: number; categories: Category[] } | undefined;
  /** [0094]: substance fetches due or under way, for the stubs a sync fetches itself (forced-stubs.ts). */
  partial: PartialFetches;
  /** Bytes asked for in one fetch of substance. */
  chunkBytes: number;
  /** Conflict copies this sync already told the user about. */
  toldCopies: Set<string>;
}
