import { type BrokerKillResult, runBrokerKills } from '../test/crash/broker-kills.js';
import { type NvDamageResult, runNvDamage } from '../test/crash/nv-damage.js';
import { type NvKillResult, runNvKills } from '../test/crash/nv-kills.js';
import { type FuzzResult, fuzzAll } from '../test/fuzz/index.js';
import { type ReliabilityCounts, runHistories } from '../test/reliability/histories.js';
import { type BenchResult, machine, printResult, type Row } from './report.js';

/**
 * Issue 21 "Reliability in numbers": one run of everything that injects
 * faults or hostile input, with the counts CI gates on.
 *
 * 1. model-based histories (test/reliability: runHistories) on the simulated
 *    HAL: edits, SIM moves, power cuts, torn commits, link drops, broker
 *    restarts, card yanks, cut fetches;
 * 2. the FileNvStore writer process SIGKILLed mid-commit (test/crash: runNvKills),
 *    and NV logs with a bit flipped at every byte and cut at every length
 *    (test/crash: runNvDamage);
 * 3. the real `simsync server` process SIGKILLed during uploads from engine
 *    terminals (test/crash: runBrokerKills);
 * 4. fuzzing: the broker sync handler over MQTT, the APDU response parsers,
 *    the AT line parsers, vCard/iCal import (test/fuzz: fuzzAll).
 *
 *   npm run reliability -- [--histories N] [--seed S] [--nv-kills N] [--damage-logs N] [--broker-kills N] [--fuzz N] [--quick]
 *
 * Lost acknowledged changes, duplicates, unconverged terminals, damaged
 * logs used and crashes must all be 0; `failed()` says when not, and the command exits 1.
 */
export interface ReliabilityOptions {
  histories?: number;
  seed?: number;
  nvKills?: number;
  /** NV logs damaged at every byte (bit flip) and cut at every length. */
  damageLogs?: number;
  brokerKills?: number;
  /** Fuzz inputs in all, shared among the targets (test/fuzz/index.ts SHARES). */
  fuzz?: number;
  /** Engine terminals uploading while the server is killed. */
  terminals?: number;
}

/** The CI form: every part runs, small. */
export const quick: ReliabilityOptions = {
  histories: 5,
  nvKills: 10,
  damageLogs: 1,
  brokerKills: 1,
  fuzz: 4_000,
};

export interface ReliabilityResult extends BenchResult {
  totals: {
    lostAcknowledged: number;
    duplicates: number;
    unconvergedTerminals: number;
    /** Damaged NV logs opened as if whole, or truncated ones opened as anything but a prefix. */
    damagedLogsUsed: number;
    crashes: number;
  };
  /** What went wrong, one line each (with the seed); empty when sound. */
  problems: string[];
}

type Part<T> = { ok: true; value: T; ms: number } | { ok: false; error: string; ms: number };

/** Runs one part; a part that throws is a crash of the run, counted and told, and the others still run. */
async function part<T>(fn: () => Promise<T>): Promise<Part<T>> {
  const started = Date.now();
  try {
    return { ok: true, value: await fn(), ms: Date.now() - started };
  } catch (e) {
    return {
      ok: false,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      ms: Date.now() - started,
    };
  }
}

const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

export async function run(options: ReliabilityOptions = {}): Promise<ReliabilityResult> {
  const o = {
    histories: options.histories ?? 500,
    seed: options.seed ?? Date.now() % 2 ** 31,
    nvKills: options.nvKills ?? 500,
    damageLogs: options.damageLogs ?? 10,
    brokerKills: options.brokerKills ?? 20,
    fuzz: options.fuzz ?? 1_000_000,
    terminals: options.terminals ?? 3,
  };
  const startedAt = new Date().toISOString();
  const progress = (what: string) => process.stderr.write(`reliability (seed ${o.seed}): ${what}\n`);
  progress(`${o.histories} histories`);
  const histories = await part<ReliabilityCounts>(() =>
    runHistories({ histories: o.histories, seed: o.seed }),
  );
  progress(`${o.nvKills} SIGKILLs of the NV store writer`);
  const nv = await part<NvKillResult>(() => runNvKills({ kills: o.nvKills, seed: o.seed }));
  progress(`${o.damageLogs} NV logs damaged at every byte`);
  const damage = await part<NvDamageResult>(() => runNvDamage({ logs: o.damageLogs, seed: o.seed }));
  progress(`${o.brokerKills} SIGKILLs of the simsync server`);
  const broker = await part<BrokerKillResult>(() =>
    runBrokerKills({ kills: o.brokerKills, terminals: o.terminals, seed: o.seed }),
  );
  progress(`${o.fuzz} fuzz inputs`);
  const fuzz = await part(() => fuzzAll({ count: o.fuzz, seed: o.seed }));

  const problems: string[] = [];
  const rows: Row[] = [];
  const add = (measure: string, value: number | string, required = '') =>
    rows.push({ measure, value, required });
  let crashes = 0;
  for (const [name, p] of [
    ['histories', histories],
    ['nv kills', nv],
    ['nv damage', damage],
    ['broker kills', broker],
    ['fuzz', fuzz],
  ] as const) {
    if (p.ok) continue;
    crashes++;
    problems.push(`${name} (seed ${o.seed}) crashed: ${p.error}`);
  }
  const h = histories.ok ? histories.value : undefined;
  const n = nv.ok ? nv.value : undefined;
  const d = damage.ok ? damage.value : undefined;
  const b = broker.ok ? broker.value : undefined;
  const f: FuzzResult[] = fuzz.ok ? fuzz.value.results : [];

  add('histories run', h?.histories ?? 0);
  add('history steps', h?.steps ?? 0);
  for (const [kind, count] of Object.entries(h?.faults ?? {})) add(`fault: ${kind} (histories)`, count);
  add('fault: SIGKILL of the NV store writer', n?.kills ?? 0);
  add('fault: bit flip in the NV log (every byte)', d?.flips ?? 0);
  add('fault: NV log cut short (every length)', d?.truncations ?? 0);
  add('fault: SIGKILL of the simsync server', b?.kills ?? 0);
  for (const r of f) add(`inputs fuzzed: ${r.target}`, r.inputs);
  add(
    'inputs fuzzed: total',
    f.reduce((sum, r) => sum + r.inputs, 0),
  );

  const lost = (h?.lostAcknowledged ?? 0) + (n?.lostAcknowledged ?? 0) + (b?.lostAcknowledged ?? 0);
  const duplicates = (h?.duplicates ?? 0) + (b?.duplicates ?? 0) + (n?.partialBatches ?? 0);
  const unconverged = (h?.unconvergedTerminals ?? 0) + (b?.unconverged ?? 0) + (b?.neverUploaded ?? 0);
  crashes +=
    (h?.unexpectedErrors ?? 0) +
    (h?.conflictsWithoutLoser ?? 0) +
    (h?.wrongRefusals ?? 0) +
    (n?.openFailures ?? 0) +
    f.reduce((sum, r) => sum + r.crashes, 0);
  add('lost acknowledged changes', lost, '0');
  add('duplicates (and partial NV batches)', duplicates, '0');
  add('unconverged terminals', unconverged, '0');
  const damagedLogsUsed = (d?.flipsMissed ?? 0) + (d?.truncationsWrong ?? 0);
  add('damaged NV logs used (flips not refused, cuts not a prefix)', damagedLogsUsed, '0');
  add('crashes', crashes, '0');
  add('peak simsync server RSS, MiB (SIGKILL run)', mib(b?.peakServerRss ?? 0));
  const brokerFuzz = fuzz.ok ? fuzz.value.broker : undefined;
  add('peak heap, in-process broker under fuzz, MiB', mib(brokerFuzz?.peakHeapBytes ?? 0));
  add('heap growth over the broker fuzz, MiB', mib(brokerFuzz?.heapGrowthBytes ?? 0));

  for (const failure of h?.failures ?? [])
    problems.push(
      `history ${failure.index} (seed ${o.seed}):\n${failure.history}\n${JSON.stringify(failure.problems)}`,
    );
  if (h?.shrunk)
    problems.push(
      `shrunk history (seed ${o.seed}):\n${h.shrunk.history}\n${JSON.stringify(h.shrunk.problems)}`,
    );
  problems.push(
    ...(n?.problems ?? []),
    ...(d?.problems ?? []),
    ...(b?.problems ?? []),
    ...f.flatMap((r) => r.failures),
  );

  return {
    bench: 'reliability',
    startedAt,
    machine: machine(),
    parameters: {
      ...o,
      ms: {
        histories: histories.ms,
        nvKills: nv.ms,
        nvDamage: damage.ms,
        brokerKills: broker.ms,
        fuzz: fuzz.ms,
      },
    },
    rows,
    targets: {
      '0 lost acknowledged changes': lost === 0,
      '0 duplicates': duplicates === 0,
      '0 unconverged terminals': unconverged === 0,
      '0 damaged NV logs used': damagedLogsUsed === 0,
      '0 crashes': crashes === 0,
    },
    totals: {
      lostAcknowledged: lost,
      duplicates,
      unconvergedTerminals: unconverged,
      damagedLogsUsed,
      crashes,
    },
    problems,
  };
}

export function print(result: ReliabilityResult): void {
  printResult(result);
  for (const problem of result.problems) console.log(`! ${problem}`);
}

/** Any loss, duplicate, divergence or crash: the command exits non-zero (CI gates on it). */
export function failed(result: ReliabilityResult): boolean {
  return Object.values(result.targets).some((met) => !met);
}
