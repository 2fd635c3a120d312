import { withDeadline } from '../deadline.js';
import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import type { ServerSession } from '../net/server-session.js';
import type { Category } from '../protocol/index.js';
import { PartialFetches } from '../store/partial-fetches.js';
import type { Registration } from '../store/terminal-config.js';
import { Budget } from './budget.js';
import type { MountedCard } from './mounted-card.js';
import type { RunContext, UploadResult } from './run-context.js';
import { resumeSelection, type SelectionParts } from './selection-intent.js';
import type { ServerLink } from './server-link.js';
import { SUBSTANCE_CHUNK_BYTES } from './substance.js';
import { catchUp, downloadChanges } from './sync-download.js';
import type { SyncPlan, SyncReport, Trigger } from './sync-report.js';
import { settleLeftover, uploadDirty } from './sync-upload.js';
import type { PartsOf } from './terminal-parts.js';
import { rejected, requireRegistration } from './told.js';

/**
 * Runs syncs one at a time under the terminal's lock: authenticate by policy,
 * then download and upload as planned, within the plan's limits ([0085]) and
 * an optional time limit (FIG. 16 demount hold).
 */
export class SyncRunner {
  /** Syncs running or waiting for the lock. */
  private active = 0;

  constructor(
    private readonly parts: SelectionParts &
      PartsOf<'log' | 'mutex' | 'settings' | 'terminalId', 'agent' | 'clock'>,
    private readonly card: MountedCard,
    private readonly link: ServerLink,
  ) {}

  private get told() {
    return { agent: this.parts.hal.agent, log: this.parts.log };
  }

  private registration() {
    return requireRegistration(this.parts.config, this.told);
  }

  get syncing(): boolean {
    return this.active > 0;
  }

  /**
   * A sync now (user directive, a mount, or a trigger): authenticate by
   * policy (the binding check of FIG. 10-B/11-B/20/21/22), then download and
   * upload as planned.
   */
  async sync(trigger: Trigger, plan: SyncPlan): Promise<SyncReport> {
    this.active++;
    try {
      const { subscriber } = await this.card.authenticated();
      this.card.authenticatedOnMount(subscriber);
      return await this.run(trigger, subscriber, plan);
    } finally {
      this.active--;
    }
  }

  /** A sync for a subscriber already authenticated; with `limitMs`, stopped after that long. */
  run(trigger: Trigger, subscriberId: string, plan: SyncPlan, limitMs?: number): Promise<SyncReport> {
    const { mutex, hal, log } = this.parts;
    return mutex.run(async (held) => {
      const registration = await this.registration();
      let session: ServerSession;
      try {
        session = await this.link.connect(held, registration);
      } catch (e) {
        throw rejected(this.told, e);
      }
      const work = this.link.withProof(session, registration, async () => {
        // A choice of categories whose answer was lost goes first: both sides then agree on them.
        await resumeSelection(this.parts, session, subscriberId);
        const current = await this.registration();
        return runPlan(this.context(session, current, subscriberId, plan), trigger, plan);
      });
      try {
        const report = await (limitMs === undefined ? work : stopAfter(this.parts, work, limitMs));
        const up = report.uploaded.length;
        const down = report.downloaded.length;
        hal.agent.notify({ kind: 'sync-done', uploaded: up, downloaded: down });
        log.info({ trigger, up, down }, 'sync done');
        return report;
      } catch (e) {
        throw await this.link.failed(held, e);
      }
    });
  }

  /**
   * [0044] manual mode: tells the user what waits on either side (server
   * updates not here, local changes not on the server) without syncing.
   * Resolves whether the server has updates.
   */
  async check(category?: Category): Promise<boolean> {
    const { subscriber } = await this.card.authenticated();
    const pending = await this.probe(subscriber, category);
    const { agent } = this.parts.hal;
    if (pending) agent.notify({ kind: 'server-updates', ...(category ? { categories: [category] } : {}) });
    const dirty = await this.parts.records.dirtyCount();
    if (dirty > 0 && category === undefined) agent.notify({ kind: 'unsynced-changes', count: dirty });
    return pending;
  }

  /** [0043]/[0044]: asks the server whether it has changes past what is here (of `category`, or any). */
  probe(subscriber: string, category?: Category): Promise<boolean> {
    const { mutex, records } = this.parts;
    return mutex.run(async (held) => {
      const registration = await this.registration();
      const session = await this.link.connect(held, registration);
      const after = category === undefined ? await records.anchor() : await records.ahead(category);
      try {
        const reply = await this.link.withProof(session, registration, () =>
          session.request({ type: 'probe', subscriber, after, ...(category ? { category } : {}) }),
        );
        return expectReply(reply, 'probe-result').pending;
      } catch (e) {
        await this.link.noteStanding(e);
        throw e;
      }
    });
  }

  private context(
    session: ServerSession,
    registration: Registration,
    subscriberId: string,
    plan: SyncPlan,
  ): RunContext {
    const { hal, records, settings, terminalId } = this.parts;
    const lazy = settings.lazy;
    return {
      session,
      store: records,
      agent: hal.agent,
      subscriberId,
      categories: registration.categories,
      batchBytes: settings.batchBytes,
      pageBytes: settings.pageBytes,
      budget: new Budget(plan.limits ?? {}, hal.clock, plan.interrupted),
      terminalId,
      stubs: lazy ? { above: lazy.aboveBytes, categories: lazy.categories ?? ['archive'] } : undefined,
      partial: new PartialFetches(hal.nv),
      chunkBytes: lazy?.chunkBytes ?? SUBSTANCE_CHUNK_BYTES,
      toldCopies: new Set(),
    };
  }
}

async function runPlan(ctx: RunContext, trigger: Trigger, plan: SyncPlan): Promise<SyncReport> {
  const { session, budget } = ctx;
  const sentBefore = session.traffic.sent;
  const receivedBefore = session.traffic.received;
  const download = plan.download ?? true;
  const upload = plan.upload ?? plan.category === undefined;
  const up: UploadResult = { uploaded: [], conflicts: [], setAside: [] };
  // A batch left in flight is settled first: what comes down cannot be applied safely beside it.
  const settled = download ? await settleLeftover(ctx, up) : true;
  // Download first on mount so "what this terminal lacks" is exactly the others' changes.
  const downloaded = [];
  if (settled && download && plan.category === undefined) downloaded.push(...(await catchUp(ctx)));
  if (settled && download) downloaded.push(...(await downloadChanges(ctx, plan.category)));
  if (upload) await uploadDirty(ctx, up);
  // A conflict leaves a preserved copy on the server: bring it down in the same sync.
  if (download && up.conflicts.length > 0) downloaded.push(...(await downloadChanges(ctx)));
  const stoppedBy = budget.stopped;
  return {
    trigger,
    uploaded: up.uploaded,
    downloaded,
    conflicts: up.conflicts,
    setAside: up.setAside,
    bytesSent: session.traffic.sent - sentBefore,
    bytesReceived: session.traffic.received - receivedBefore,
    upBytes: budget.up,
    downBytes: budget.down,
    complete: stoppedBy === undefined,
    ...(stoppedBy ? { stoppedBy } : {}),
  };
}

function stopAfter<T>(parts: PartsOf<never, 'clock'>, work: Promise<T>, ms: number): Promise<T> {
  return withDeadline(
    parts.hal.clock,
    work,
    ms,
    () => new SyncError('aborted', `sync stopped after ${ms} ms; finished work is kept`),
  );
}
