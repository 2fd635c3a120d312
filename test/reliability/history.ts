import fc from 'fast-check';
import type { Category } from '../../core/index.js';
import { MODEL_CATEGORIES, TERMINAL_SETUPS } from './template.js';

/**
 * A history: terminals (3–5 of the template's five) and what happens to
 * them, one step after another on virtual time. Terminal numbers in steps
 * are taken modulo the number of terminals, so a history stays valid while
 * fast-check shrinks it.
 */
export interface History {
  terminals: TerminalPlan[];
  steps: Step[];
}

export interface TerminalPlan {
  /** [0023]/[0068]: may the user edit without the SIM (terminal password)? */
  withoutSim: 'editable' | 'read-only';
  /** Small pages and batches: a sync makes many NV commits and many messages. */
  pageBytes: number;
  batchBytes: number;
  /** [0094] lazy download: mail and pim bodies above 100 bytes come as stubs, fetched on open in 128-byte chunks. */
  lazy: boolean;
}

export const RECORD_IDS = ['r0', 'r1', 'r2', 'r3'] as const;

export type Step =
  /**
   * A user edits a record on terminal t ('holder': the one with the SIM):
   * with the SIM if it holds it, else by the terminal password.
   */
  | { kind: 'edit'; t: number | 'holder'; category: Category; id: string; size: number }
  | { kind: 'delete'; t: number | 'holder'; category: Category; id: string }
  /** The SIM is moved into terminal t, which syncs on the mount (FIG. 16). */
  | { kind: 'move'; t: number }
  /** The terminal holding the SIM syncs: at the user's word, on battery low (FIG. 22, upload only), or idle within limits (FIG. 21, [0085]). */
  | { kind: 'sync'; how: 'user' | 'battery-low' | 'idle'; limitBytes: number }
  /** FIG. 15: the holder changes its sync-target categories. */
  | { kind: 'categories'; categories: Category[] }
  /** Power fails at the holder's n-th NV commit from now (torn after some ops), then it syncs. */
  | { kind: 'power-cut'; t: number; atCommit: number; tornAfterOps: number }
  /** The holder's link breaks after this many more bytes, then it syncs. */
  | { kind: 'link-drop'; afterBytes: number }
  /** The broker restarts once this many more bytes have crossed, during the holder's sync. */
  | { kind: 'broker-restart'; afterBytes: number }
  /** The SIM is yanked after this many more APDUs (the last one executed or not), during the holder's sync. */
  | { kind: 'yank'; afterApdus: number; processed: boolean }
  /** [0072] FIG. 20: the holder is erased to its factory state, then registered again (FIG. 8). */
  | { kind: 'factory-erase' }
  /** [0094] the user opens a record on the holder (a stub of the category if it has one); a fetch is cut after `cutAfterBytes` if given. */
  | { kind: 'open'; category: Category; id: string; cutAfterBytes: number | undefined };

const terminal = fc.nat({ max: TERMINAL_SETUPS.length - 1 });
const writer = fc.oneof(
  { weight: 1, arbitrary: fc.constant('holder' as const) },
  { weight: 1, arbitrary: terminal },
);
const category = fc.constantFrom(...MODEL_CATEGORIES);
const id = fc.constantFrom(...RECORD_IDS);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      t: writer,
      category,
      id,
      size: fc.integer({ min: 8, max: 700 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), t: writer, category, id }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('move' as const), t: terminal }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      how: fc.constantFrom('user' as const, 'battery-low' as const, 'idle' as const),
      limitBytes: fc.integer({ min: 1, max: 3000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('categories' as const),
      categories: fc.uniqueArray(category, { minLength: 1, maxLength: MODEL_CATEGORIES.length }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('power-cut' as const),
      t: terminal,
      atCommit: fc.integer({ min: 1, max: 6 }),
      tornAfterOps: fc.integer({ min: 0, max: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('link-drop' as const),
      afterBytes: fc.integer({ min: 0, max: 4000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('broker-restart' as const),
      afterBytes: fc.integer({ min: 0, max: 1500 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('yank' as const),
      afterApdus: fc.integer({ min: 0, max: 12 }),
      processed: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('factory-erase' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('open' as const),
      category: fc.constantFrom('mail' as const, 'pim' as const),
      id,
      cutAfterBytes: fc.option(fc.integer({ min: 0, max: 900 }), { nil: undefined, freq: 4 }),
    }),
  },
);

const planArb: fc.Arbitrary<TerminalPlan> = fc.record({
  withoutSim: fc.oneof(
    { weight: 3, arbitrary: fc.constant('editable' as const) },
    { weight: 1, arbitrary: fc.constant('read-only' as const) },
  ),
  pageBytes: fc.integer({ min: 200, max: 2000 }),
  batchBytes: fc.integer({ min: 200, max: 2000 }),
  lazy: fc.boolean(),
});

export function historyArb(maxSteps = 24): fc.Arbitrary<History> {
  return fc.record({
    terminals: fc.array(planArb, { minLength: 3, maxLength: 5 }),
    // 'max': lengths spread over the whole range, not clustered near the minimum.
    steps: fc.array(stepArb, { minLength: 1, maxLength: maxSteps, size: 'max' }),
  });
}

/** One step in words, terminals numbered as the run sees them. */
export function describeStep(step: Step, terminals: number): string {
  const t = (n: number | 'holder') => (n === 'holder' ? 'the SIM holder' : `t${n % terminals}`);
  switch (step.kind) {
    case 'edit':
      return `${t(step.t)} edits ${step.category}/${step.id} (${step.size} bytes)`;
    case 'delete':
      return `${t(step.t)} deletes ${step.category}/${step.id}`;
    case 'move':
      return `SIM moved into ${t(step.t)}, which syncs on the mount`;
    case 'sync':
      return step.how === 'user'
        ? 'the SIM holder syncs'
        : step.how === 'battery-low'
          ? 'the SIM holder syncs on battery low (upload only)'
          : `the SIM holder syncs while idle, at most ${step.limitBytes} bytes each way`;
    case 'categories':
      return `the SIM holder sets its categories to ${step.categories.join(', ')}`;
    case 'power-cut':
      return `${t(step.t)} loses power at its ${step.atCommit}. NV commit from now${step.tornAfterOps > 0 ? ` (torn after ${step.tornAfterOps} ops)` : ''}; the SIM holder syncs`;
    case 'link-drop':
      return `the SIM holder's link drops after ${step.afterBytes} more bytes, during its sync`;
    case 'broker-restart':
      return `the broker restarts after ${step.afterBytes} more bytes, during the SIM holder's sync`;
    case 'yank':
      return `the SIM is yanked after ${step.afterApdus} more APDUs${step.processed ? ' (the last one executed)' : ''}, during the holder's sync`;
    case 'factory-erase':
      return 'the SIM holder is erased to its factory state, then registered again';
    case 'open':
      return `the SIM holder opens ${step.category}/${step.id} (or a stub of ${step.category})${step.cutAfterBytes === undefined ? '' : `, its link dropping after ${step.cutAfterBytes} more bytes`}`;
  }
}

export function describeHistory(history: History): string {
  const n = history.terminals.length;
  const lines = history.terminals.map((plan, i) => {
    const setup = TERMINAL_SETUPS[i];
    return `  t${i}: ${setup?.policy}, categories ${setup?.categories.join(', ')}, without SIM ${plan.withoutSim}, pages ${plan.pageBytes} B, batches ${plan.batchBytes} B${plan.lazy ? ', lazy download' : ''}`;
  });
  lines.push('  the SIM starts in t0');
  history.steps.forEach((step, i) => {
    lines.push(`  ${String(i + 1).padStart(2)}. ${describeStep(step, n)}`);
  });
  lines.push(
    '  then the faults stop: every terminal gets the SIM and syncs; those before the last to upload sync again',
  );
  return lines.join('\n');
}
