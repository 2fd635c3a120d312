/**
 * Convergence under faults (issue 21), model-based with fast-check: random
 * histories of edits and deletions on 3–5 terminals (with and without the
 * SIM, per the terminal's [0023]/[0068] setting), SIM moves, category
 * changes, power cuts at a random NV commit (torn mid-commit too), link
 * drops at a random byte, broker restarts mid-sync, the card yanked
 * mid-APDU, battery-low and idle syncs within their limits, lazy fetches
 * cut mid-chunk ([0094]), and factory erases, on the simulated HAL, an
 * in-process broker and virtual time. After the faults stop and the final
 * rounds, checks.ts says what must hold.
 *
 * The entry for the report command (bench/reliability.ts):
 *
 *   runHistories(options: RunHistoriesOptions): Promise<ReliabilityCounts>
 *
 *   RunHistoriesOptions = {
 *     histories: number;          // how many histories to run
 *     seed: number;               // fast-check seed: the same seed, the same histories
 *     maxSteps?: number;          // steps per history, at most (default 24)
 *     shrink?: boolean;           // shrink the first failing history (default true)
 *     onProgress?: (done: number, outcome: HistoryOutcome) => void;
 *   }
 *   ReliabilityCounts = {
 *     histories, steps, acknowledged, conflicts: number;
 *     faults: Record<FaultKind, number>;      // faults that fired, by kind: 'power-cut',
 *                                              // 'torn-commit', 'link-drop', 'broker-restart',
 *                                              // 'card-yank', 'fetch-cut'
 *     events: Record<EventKind, number>;      // the load they landed on
 *     lostAcknowledged, duplicates, unconvergedTerminals,
 *     conflictsWithoutLoser, wrongRefusals, unexpectedErrors: number;   // all 0 when sound
 *     failures: { index: number; history: string; problems: Problem[] }[];  // failing histories
 *     shrunk?: { history: string; problems: Problem[] };                  // the first one, shrunk
 *     ms: number;                              // wall time
 *   }
 *
 * It makes its own template (a subscriber and five registered terminals,
 * ~1.5 s) under /dev/shm and removes it; histories are independent and the
 * same seed gives the same histories. describeFailure(failure) prints one.
 */
import fc from 'fast-check';
import type { Problem, ProblemKind } from './checks.js';
import { describeHistory, type History, historyArb } from './history.js';
import { type EventKind, type FaultKind, type HistoryOutcome, runHistory } from './run-history.js';
import { makeTemplate, type Template } from './template.js';

export type { Problem, ProblemKind } from './checks.js';
export type { History } from './history.js';
export type { EventKind, FaultKind, HistoryOutcome } from './run-history.js';

export interface RunHistoriesOptions {
  histories: number;
  seed: number;
  maxSteps?: number;
  shrink?: boolean;
  onProgress?: (done: number, outcome: HistoryOutcome) => void;
}

export interface ReliabilityCounts {
  histories: number;
  steps: number;
  acknowledged: number;
  conflicts: number;
  faults: Record<FaultKind, number>;
  events: Record<EventKind, number>;
  lostAcknowledged: number;
  duplicates: number;
  unconvergedTerminals: number;
  conflictsWithoutLoser: number;
  wrongRefusals: number;
  unexpectedErrors: number;
  failures: { index: number; history: string; problems: Problem[] }[];
  shrunk?: { history: string; problems: Problem[] };
  ms: number;
}

const FAULTS: FaultKind[] = [
  'power-cut',
  'torn-commit',
  'link-drop',
  'broker-restart',
  'card-yank',
  'fetch-cut',
];

export async function runHistories(options: RunHistoriesOptions): Promise<ReliabilityCounts> {
  const started = Date.now();
  const histories = fc.sample(historyArb(options.maxSteps), {
    seed: options.seed,
    numRuns: options.histories,
  });
  const counts = emptyCounts();
  const template = await makeTemplate();
  try {
    for (const [index, history] of histories.entries()) {
      const outcome = await runHistory(template, history, `h${index}`);
      add(counts, history, outcome);
      if (outcome.problems.length > 0) {
        counts.failures.push({ index, history: describeHistory(history), problems: outcome.problems });
      }
      options.onProgress?.(index + 1, outcome);
    }
    const first = counts.failures[0];
    if (first !== undefined && (options.shrink ?? true)) {
      counts.shrunk = await shrink(template, histories[first.index] as History);
    }
  } finally {
    template.remove();
  }
  counts.ms = Date.now() - started;
  return counts;
}

/** fast-check shrinks a failing history to a small one that still fails, within a minute. */
async function shrink(
  template: Template,
  failing: History,
): Promise<{ history: string; problems: Problem[] }> {
  let smallest = { history: failing, problems: [] as Problem[] };
  let runs = 0;
  const property = fc.asyncProperty(historyArb(failing.steps.length), async (history) => {
    const outcome = await runHistory(template, history, `s${runs++}`);
    if (outcome.problems.length === 0) return true;
    smallest = { history, problems: outcome.problems };
    return false;
  });
  await fc.check(property, { examples: [[failing]], numRuns: 1, interruptAfterTimeLimit: 60_000 });
  return { history: describeHistory(smallest.history), problems: smallest.problems };
}

/** A failure as the test prints it: the history in words, then what went wrong. */
export function describeFailure(failure: { history: string; problems: Problem[] }): string {
  const problems = failure.problems.map((p) => `  - ${p.kind}: ${p.detail}`);
  return `history:\n${failure.history}\nproblems:\n${problems.join('\n')}`;
}

function emptyCounts(): ReliabilityCounts {
  return {
    histories: 0,
    steps: 0,
    acknowledged: 0,
    conflicts: 0,
    faults: Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<FaultKind, number>,
    events: {} as Record<EventKind, number>,
    lostAcknowledged: 0,
    duplicates: 0,
    unconvergedTerminals: 0,
    conflictsWithoutLoser: 0,
    wrongRefusals: 0,
    unexpectedErrors: 0,
    failures: [],
    ms: 0,
  };
}

const TALLY: Record<ProblemKind, keyof ReliabilityCounts> = {
  'lost-acknowledged': 'lostAcknowledged',
  duplicate: 'duplicates',
  unconverged: 'unconvergedTerminals',
  'conflict-without-loser': 'conflictsWithoutLoser',
  'wrong-refusal': 'wrongRefusals',
  'unexpected-error': 'unexpectedErrors',
};

function add(counts: ReliabilityCounts, history: History, outcome: HistoryOutcome): void {
  counts.histories++;
  counts.steps += history.steps.length;
  counts.acknowledged += outcome.acknowledged;
  counts.conflicts += outcome.conflicts;
  for (const [kind, n] of Object.entries(outcome.faults)) counts.faults[kind as FaultKind] += n;
  for (const [kind, n] of Object.entries(outcome.events)) {
    counts.events[kind as EventKind] = (counts.events[kind as EventKind] ?? 0) + n;
  }
  // Unconverged counts terminals, the others problems.
  const unconverged = new Set<string>();
  for (const problem of outcome.problems) {
    if (problem.kind === 'unconverged') unconverged.add(problem.detail.split(':')[0] ?? '');
    else (counts[TALLY[problem.kind]] as number)++;
  }
  counts.unconvergedTerminals += unconverged.size;
}
