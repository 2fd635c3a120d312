import { type Category, SyncError, type SyncReport, utf8 } from '../../core/index.js';
import { HalError } from '../../hal/index.js';
import { checkHistory, type Observations, type Problem } from './checks.js';
import type { History, Step } from './history.js';
import { HistoryWorld, type Node } from './history-world.js';
import { TERMINAL_SETUPS, type Template } from './template.js';

/** Faults that fired (armed ones that never came are not counted). */
export type FaultKind =
  | 'power-cut'
  | 'torn-commit'
  | 'link-drop'
  | 'broker-restart'
  | 'card-yank'
  | 'fetch-cut';

/** What a history did besides faults: the load the faults landed on. */
export type EventKind =
  | 'edit-with-sim'
  | 'edit-without-sim'
  | 'delete'
  | 'refused-edit'
  | 'sim-move'
  | 'sync'
  | 'battery-low-sync'
  | 'idle-sync'
  | 'idle-stopped-by-limit'
  | 'category-change'
  | 'factory-erase'
  | 'open'
  | 'open-stub'
  | 'failed-sync';

export interface HistoryOutcome {
  problems: Problem[];
  faults: Partial<Record<FaultKind, number>>;
  events: Partial<Record<EventKind, number>>;
  acknowledged: number;
  conflicts: number;
}

/** Runs one history on a fresh copy of the template, then the final sync rounds, then the checks. */
export async function runHistory(
  template: Template,
  history: History,
  name: string,
): Promise<HistoryOutcome> {
  const world = await HistoryWorld.open(template, history.terminals, name);
  const run = new HistoryRun(world);
  try {
    for (const [i, step] of history.steps.entries()) {
      await run.step(step, i + 1);
      await run.afterStep();
    }
    await run.finalRounds();
    const problems = [...run.problems, ...(await checkHistory(world, run.seen))];
    return {
      problems,
      faults: run.faults,
      events: run.events,
      acknowledged: run.seen.acks.length,
      conflicts: run.seen.conflicts.length,
    };
  } finally {
    await world.close();
  }
}

class HistoryRun {
  readonly seen: Observations = { acks: [], writes: [], conflicts: [] };
  readonly problems: Problem[] = [];
  readonly faults: Partial<Record<FaultKind, number>> = {};
  readonly events: Partial<Record<EventKind, number>> = {};
  /** The last value each terminal's user wrote to each record. */
  private readonly last = new Map<string, { value: string | null; step: number }>();
  /** Where the SIM goes back when it was yanked: the user puts it in again. */
  private lastHolder: Node;
  private values = 0;
  private step_ = 0;
  private readonly needsRegistration = new Set<Node>();

  constructor(private readonly world: HistoryWorld) {
    this.lastHolder = world.nodes[0] as Node;
    world.moveSim(this.lastHolder);
  }

  async step(step: Step, index: number): Promise<void> {
    this.step_ = index;
    await this.world.clock.advance(1000);
    switch (step.kind) {
      case 'edit':
      case 'delete':
        return this.write(
          step.t === 'holder' ? this.holder() : this.node(step.t),
          step.category,
          step.id,
          step.kind === 'edit' ? step.size : undefined,
        );
      case 'move': {
        const node = this.node(step.t);
        this.world.moveSim(node);
        this.lastHolder = node;
        this.count('sim-move');
        await this.sync(node, 'mount');
        return;
      }
      case 'sync': {
        const node = this.holder();
        if (step.how === 'user') return void (await this.sync(node, 'user'));
        if (step.how === 'battery-low') {
          this.count('battery-low-sync');
          return void (await this.sync(node, 'battery-low', { download: false }));
        }
        this.count('idle-sync');
        const limits = { upBytes: step.limitBytes, downBytes: step.limitBytes };
        const report = await this.sync(node, 'idle', { limits });
        if (report && !report.complete) this.count('idle-stopped-by-limit');
        return;
      }
      case 'categories':
        return this.setCategories(this.holder(), step.categories);
      case 'power-cut':
        this.node(step.t).nv.cutPowerAtCommit(step.atCommit, { tornAfterOps: step.tornAfterOps });
        return void (await this.sync(this.holder(), 'user'));
      case 'link-drop': {
        const node = this.holder();
        node.link.dropAfterBytes(step.afterBytes);
        return void (await this.sync(node, 'user'));
      }
      case 'broker-restart':
        // It may come during a later step: armed faults stay armed until they fire.
        this.world.restartAfter(step.afterBytes);
        return void (await this.sync(this.holder(), 'user'));
      case 'yank': {
        const node = this.holder();
        node.reader.yankAfterApdus(step.afterApdus, { processed: step.processed });
        await this.sync(node, 'user');
        if (!node.reader.present()) this.fault('card-yank');
        return;
      }
      case 'factory-erase':
        return this.factoryErase(this.holder());
      case 'open':
        return this.open(this.holder(), step.category, step.id, step.cutAfterBytes);
    }
  }

  /** Power cuts are noticed here: the terminal reboots over its flash. */
  async afterStep(): Promise<void> {
    await this.world.quiet();
    this.faults['broker-restart'] = this.world.restarts;
    for (const node of this.world.nodes) {
      if (node.link.dropFired()) this.fault('link-drop');
    }
    for (const node of this.world.nodes) {
      if (node.nv.isOn()) continue;
      this.fault('power-cut');
      if (node.nv.pendingRecovery() > 0) this.fault('torn-commit');
      await this.world.reboot(node);
    }
  }

  /** The faults stop; what a user left undone is done again; every terminal syncs, twice round. */
  async finalRounds(): Promise<void> {
    this.world.disarm();
    await this.afterStep();
    for (const node of this.world.nodes) {
      this.world.moveSim(node);
      await this.finalWork(node, 'registration again', async () => {
        // A factory erase a power cut interrupted is completed at the restart (FIG. 20, erase-intent.ts).
        if (!this.needsRegistration.has(node) && (await node.terminal.registration()) !== undefined) return;
        const setup = TERMINAL_SETUPS[node.index];
        await this.world.reregister(
          node,
          setup?.policy ?? 'fig10-subscriber-binding',
          setup?.categories ?? [],
        );
        this.needsRegistration.delete(node);
      });
      await this.finalWork(node, 'categories again', async () => {
        if (node.wantedCategories === undefined) return;
        await this.world.settle(node.terminal.setCategories(node.wantedCategories));
        delete node.wantedCategories;
      });
    }
    // Round 1: everyone syncs. Round 2: those before the last one that put something on the
    // server sync again to bring it down.
    let lastChanger = -1;
    for (const node of this.world.nodes) {
      this.world.moveSim(node);
      await this.finalWork(node, 'final sync', async () => {
        const report = await this.world.sync(node, 'user');
        this.record(node, report);
        if (report.uploaded.length > 0 || report.conflicts.length > 0) lastChanger = node.index;
      });
    }
    for (const node of this.world.nodes.slice(0, Math.max(0, lastChanger))) {
      this.world.moveSim(node);
      await this.finalWork(node, 'final sync, second round', async () => {
        this.record(node, await this.world.sync(node, 'user'));
      });
    }
    for (const node of this.world.nodes) {
      this.world.moveSim(node);
      await this.fetchStubs(node);
    }
  }

  /** [0094] every stub left is opened, so its substance is compared too. */
  private async fetchStubs(node: Node): Promise<void> {
    for (const category of (await node.terminal.registration())?.categories ?? []) {
      for (const record of await node.terminal.records.list(category)) {
        if (record.stub === undefined) continue;
        await this.finalWork(node, `fetching ${category}/${record.id}`, async () => {
          await this.world.settle(node.terminal.fetch(category, record.id));
        });
      }
    }
  }

  private async open(
    node: Node,
    category: Category,
    chosen: string,
    cutAfterBytes: number | undefined,
  ): Promise<void> {
    this.count('open');
    // The user opens a record shown as a stub if the category has one (they are what [0094] fetches).
    const stubs = (await node.terminal.records.list(category).catch(() => [])).filter(
      (r) => r.stub !== undefined,
    );
    const stub = stubs.length > 0;
    if (stub) this.count('open-stub');
    const id = stubs[this.step_ % Math.max(1, stubs.length)]?.id ?? chosen;
    if (cutAfterBytes !== undefined) node.link.dropAfterBytes(cutAfterBytes);
    try {
      await this.world.settle(node.terminal.open(category, id));
    } catch (e) {
      this.unexpected(node, e);
    }
    if (cutAfterBytes !== undefined && node.link.dropFired()) this.fault(stub ? 'fetch-cut' : 'link-drop');
  }

  private async finalWork(node: Node, what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.problems.push({
        kind: 'unconverged',
        detail: `t${node.index}: ${what} failed: ${describeError(e)}`,
      });
    }
  }

  private node(t: number): Node {
    return this.world.nodes[t % this.world.nodes.length] as Node;
  }

  /** The terminal holding the SIM; a yanked SIM is put back where it was. */
  private holder(): Node {
    const holder = this.world.holder();
    if (holder) return holder;
    this.world.moveSim(this.lastHolder);
    return this.lastHolder;
  }

  private async write(node: Node, category: Category, id: string, size: number | undefined): Promise<void> {
    const withSim = node.reader.present();
    const registration = await node.terminal.registration().catch(() => undefined);
    const expected = expectedRefusal(registration?.categories, category, withSim, node.plan.withoutSim);
    // A category change whose answer was lost may be pending: edits in what it removes may be refused.
    const pendingDrop = node.wantedCategories !== undefined && !node.wantedCategories.includes(category);
    const base = (await node.terminal.records.get(category, id).catch(() => undefined))?.base ?? 0;
    const value = size === undefined ? null : `v${++this.values}.t${node.index}.`.padEnd(size, '~');
    try {
      const done =
        value === null
          ? await this.world.settle(node.terminal.delete(category, id))
          : (await this.world.settle(node.terminal.edit(category, id, utf8(value)))) !== undefined;
      if (expected !== undefined) {
        this.problems.push({
          kind: 'wrong-refusal',
          detail: `step ${this.step_}: t${node.index}'s ${value === null ? 'delete' : 'edit'} of ${category}/${id} was accepted; expected refusal '${expected}'`,
        });
      }
      if (!done) return;
      this.count(value === null ? 'delete' : withSim ? 'edit-with-sim' : 'edit-without-sim');
      this.seen.writes.push({ t: node.index, category, id, base, value, step: this.step_ });
      this.last.set(`${node.index}|${category}/${id}`, { value, step: this.step_ });
    } catch (e) {
      if (isFault(e)) return;
      const code = e instanceof SyncError ? (e.code ?? e.kind) : undefined;
      const pendingRefusal = pendingDrop && code === 'category-not-synced';
      if (
        pendingRefusal ||
        (expected !== undefined && (code === expected || (e as SyncError).kind === expected))
      ) {
        this.count('refused-edit');
        return;
      }
      this.problems.push({
        kind: 'wrong-refusal',
        detail: `step ${this.step_}: t${node.index}'s edit of ${category}/${id} failed (${describeError(e)}); expected ${expected ?? 'success'}`,
      });
    }
  }

  private async sync(
    node: Node,
    trigger: SyncReport['trigger'],
    plan: Parameters<HistoryWorld['sync']>[2] = {},
  ): Promise<SyncReport | undefined> {
    this.count('sync');
    try {
      const report = await this.world.sync(node, trigger, plan);
      this.record(node, report);
      return report;
    } catch (e) {
      this.count('failed-sync');
      this.unexpected(node, e);
      return undefined;
    }
  }

  private record(node: Node, report: SyncReport): void {
    for (const u of report.uploaded) {
      const last = this.last.get(`${node.index}|${u.category}/${u.id}`);
      this.seen.acks.push({ t: node.index, ...u, value: last?.value ?? null, step: last?.step ?? 0 });
    }
    for (const conflict of report.conflicts) this.seen.conflicts.push({ t: node.index, conflict });
  }

  private async setCategories(node: Node, categories: Category[]): Promise<void> {
    this.count('category-change');
    try {
      await this.world.settle(node.terminal.setCategories(categories));
      delete node.wantedCategories;
    } catch (e) {
      node.wantedCategories = categories;
      this.unexpected(node, e);
    }
  }

  private async factoryErase(node: Node): Promise<void> {
    const registration = await node.terminal.registration().catch(() => undefined);
    if (registration === undefined) return;
    try {
      await this.world.settle(node.terminal.erase({ factory: true }));
    } catch (e) {
      this.unexpected(node, e);
      return;
    }
    this.count('factory-erase');
    this.needsRegistration.add(node);
    // The user sets the terminal up again at once (the SIM is still in).
    try {
      await this.world.reregister(node, registration.policy, registration.categories);
      this.needsRegistration.delete(node);
    } catch (e) {
      this.unexpected(node, e);
    }
  }

  /** Errors a fault explains are the point; any other is a finding. */
  private unexpected(node: Node, e: unknown): void {
    if (isFault(e) || e instanceof SyncError || e instanceof HalError) return;
    this.problems.push({
      kind: 'unexpected-error',
      detail: `step ${this.step_}: t${node.index}: ${describeError(e)}`,
    });
  }

  private count(kind: EventKind): void {
    this.events[kind] = (this.events[kind] ?? 0) + 1;
  }

  private fault(kind: FaultKind): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }
}

/** The refusal a user write must meet (local-access.ts, record-access.ts), if any. */
function expectedRefusal(
  categories: readonly Category[] | undefined,
  category: Category,
  withSim: boolean,
  withoutSim: 'editable' | 'read-only',
): string | undefined {
  if (categories === undefined) return 'not-registered';
  if (!withSim && withoutSim === 'read-only') return 'no-sim';
  if (!categories.includes(category)) return 'category-not-synced';
  return undefined;
}

function isFault(e: unknown): boolean {
  if (e instanceof HalError) return true;
  if (!(e instanceof SyncError)) return false;
  return (
    ['link-down', 'timeout', 'no-card', 'auth-refused', 'aborted'].includes(e.kind) ||
    e.cause instanceof HalError
  );
}

export function describeError(e: unknown): string {
  if (e instanceof SyncError) return `SyncError ${e.kind}${e.code ? `/${e.code}` : ''}: ${e.message}`;
  if (e instanceof HalError) return `HalError ${e.kind}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
