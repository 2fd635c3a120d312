import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isHalError, type NvOp } from '../../hal/index.js';
import { FileNvStore } from '../../hal-linux/index.js';
import { Seeded } from '../fuzz/seeded.js';

export const LOG = 'nv.log';
export const BATCHES = 8;

export type State = Map<string, string>;

async function stateOf(store: FileNvStore): Promise<State> {
  return new Map((await store.scan('')).map((e) => [e.key, Buffer.from(e.value).toString('hex')]));
}

function batch(random: Seeded, n: number): NvOp[] {
  const ops: NvOp[] = [];
  for (let i = 0; i < random.between(1, 4); i++) {
    const key = `k${random.int(6)}`;
    ops.push(
      random.chance(0.2)
        ? { op: 'del', key }
        : { op: 'put', key, value: random.bytes(random.between(0, 40)) },
    );
  }
  ops.push({ op: 'put', key: 'n', value: new Uint8Array([n]) });
  return ops;
}

export interface Fixture {
  log: Uint8Array;
  /** states[j]: what the store holds after j batches. */
  states: State[];
  /** ends[j]: the log's length after j batches (ends[0]: the file header alone). */
  ends: number[];
}

/** A log of BATCHES batches, no compaction, with the state and length after each. */
export async function makeLog(root: string, seed: number, name = 'source'): Promise<Fixture> {
  const dir = path.join(root, name);
  const random = new Seeded(seed);
  const store = await FileNvStore.open(dir, { compactMinBytes: 1 << 30 });
  const states = [await stateOf(store)];
  const ends = [store.stats().logBytes];
  for (let n = 1; n <= BATCHES; n++) {
    await store.commit(batch(random, n));
    states.push(await stateOf(store));
    ends.push(store.stats().logBytes);
  }
  await store.close();
  return { log: new Uint8Array(await readFile(path.join(dir, LOG))), states, ends };
}

const made = new Set<string>();

/** Opens a store whose log is `bytes`: its state and stats, or the error open() rejected with. */
export async function openLog(root: string, name: string, bytes: Uint8Array) {
  const dir = path.join(root, name);
  // The directory once (a store's creation fsyncs three times); then only its log is replaced.
  if (!made.has(dir)) await FileNvStore.open(dir).then((s) => s.close());
  made.add(dir);
  await writeFile(path.join(dir, LOG), bytes);
  try {
    const store = await FileNvStore.open(dir);
    try {
      return { dir, state: await stateOf(store), torn: store.stats().tornBytesDiscarded };
    } finally {
      await store.close();
    }
  } catch (error) {
    return { dir, error };
  }
}

/** The start of the record holding byte `at` (0: the file header). */
export function recordStart(ends: number[], at: number): number {
  if (at < (ends[0] as number)) return 0;
  let start = ends[0] as number;
  for (const end of ends.slice(1)) {
    if (at < end) return start;
    start = end;
  }
  throw new Error(`byte ${at} is past the log`);
}

export interface NvDamageResult {
  seed: number;
  logs: number;
  /** Logs opened with one bit flipped, at every byte of each log. */
  flips: number;
  /** Refused 'store-corrupt' naming the file and the damaged record's offset. */
  flipsDetected: number;
  /** Opened although damaged, or refused otherwise (must be 0). */
  flipsMissed: number;
  /** Logs opened cut short, at every length of each log. */
  truncations: number;
  /** Opened as the state of the whole records left, the cut bytes reported (or, cut in the header, refused). */
  truncationsSafe: number;
  /** Anything else (must be 0). */
  truncationsWrong: number;
  problems: string[];
}

/**
 * Issue 21: bit flips at every byte and truncation at every length of
 * `logs` logs of BATCHES random batches (seeded): every flip is refused
 * 'store-corrupt' naming the file and the record; every cut opens as a
 * prefix of whole batches with the cut-off bytes reported.
 */
export async function runNvDamage(options: { logs: number; seed: number }): Promise<NvDamageResult> {
  const root = await mkdtemp(path.join(tmpdir(), 'simsync-nv-damage-'));
  const result: NvDamageResult = {
    seed: options.seed,
    logs: options.logs,
    flips: 0,
    flipsDetected: 0,
    flipsMissed: 0,
    truncations: 0,
    truncationsSafe: 0,
    truncationsWrong: 0,
    problems: [],
  };
  const random = new Seeded(options.seed);
  try {
    for (let l = 0; l < options.logs; l++) {
      const { log, states, ends } = await makeLog(root, options.seed + l, `source-${l}`);
      for (let at = 0; at < log.length; at++) {
        const damaged = log.slice();
        damaged[at] = (damaged[at] as number) ^ (1 << random.int(8));
        const opened = await openLog(root, 'flip', damaged);
        result.flips++;
        const error = 'error' in opened ? opened.error : undefined;
        if (
          isHalError(error, 'store-corrupt') &&
          error.file === path.join(opened.dir, LOG) &&
          error.offset === recordStart(ends, at)
        ) {
          result.flipsDetected++;
          continue;
        }
        result.flipsMissed++;
        result.problems.push(
          `log ${l} (seed ${options.seed}): bit flip at byte ${at}: ${error ? String(error) : 'opened'}`,
        );
      }
      for (let length = 0; length < log.length; length++) {
        const opened = await openLog(root, 'cut', log.subarray(0, length));
        result.truncations++;
        const whole = ends.filter((end) => end <= length).length - 1;
        const safe =
          length < (ends[0] as number)
            ? 'error' in opened && isHalError(opened.error, 'store-corrupt') && opened.error.offset === 0
            : 'state' in opened &&
              opened.torn === length - (ends[whole] as number) &&
              JSON.stringify([...opened.state]) === JSON.stringify([...(states[whole] as State)]);
        if (safe) result.truncationsSafe++;
        else {
          result.truncationsWrong++;
          result.problems.push(
            `log ${l} (seed ${options.seed}): cut to ${length} bytes: ${JSON.stringify(opened)}`,
          );
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return result;
}
