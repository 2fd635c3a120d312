import v8 from 'node:v8';
import vm from 'node:vm';
import type { Seeded } from './seeded.js';

/** What one fuzz target did with its inputs. */
export interface FuzzResult {
  target: string;
  seed: number;
  inputs: number;
  /** Inputs the target took (parsed, applied). */
  accepted: number;
  /** Inputs refused with the target's typed error. */
  refused: number;
  /** Inputs that threw anything else, or broke an invariant (must be 0). */
  crashes: number;
  /** The first few crashes: seed, input index, input, what happened. */
  failures: string[];
  /** Heap growth over the run after a collection, bytes (bounded memory). */
  heapGrowthBytes?: number;
}

export interface FuzzOptions {
  count: number;
  seed: number;
}

const MAX_FAILURES = 5;

export function newResult(target: string, seed: number): FuzzResult {
  return { target, seed, inputs: 0, accepted: 0, refused: 0, crashes: 0, failures: [] };
}

export function crash(result: FuzzResult, index: number, input: string, what: unknown): void {
  result.crashes++;
  if (result.failures.length < MAX_FAILURES) {
    const text = what instanceof Error ? `${what.name}: ${what.message}` : String(what);
    result.failures.push(
      `${result.target} seed ${result.seed} input #${index}: ${input.slice(0, 300)} → ${text}`,
    );
  }
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** One structure-blind mutation of valid bytes: a bit flipped, bytes set, inserted, deleted, cut or repeated. */
export function mutateBytes(random: Seeded, input: Uint8Array): Uint8Array {
  const out = Array.from(input);
  const at = () => random.int(Math.max(1, out.length));
  switch (random.int(8)) {
    case 0:
      if (out.length > 0) {
        const i = at();
        out[i] = (out[i] as number) ^ (1 << random.int(8));
      }
      break;
    case 1:
      if (out.length > 0) out[at()] = random.pick([0x00, 0x7f, 0x80, 0xff, random.int(256)]);
      break;
    case 2:
      out.splice(at(), 0, ...random.bytes(random.between(1, 8)));
      break;
    case 3:
      out.splice(at(), random.between(1, 8));
      break;
    case 4:
      out.length = random.int(out.length + 1);
      break;
    case 5: {
      const from = at();
      out.splice(at(), 0, ...out.slice(from, from + random.between(1, 16)));
      break;
    }
    case 6:
      return random.bytes(random.int(64));
    default:
      // Several at once.
      return mutateBytes(random, mutateBytes(random, Uint8Array.from(out)));
  }
  return Uint8Array.from(out);
}

let collect: (() => void) | undefined;

/** Heap in use after a full collection (V8's gc() reached without --expose-gc on the command line). */
export function heapAfterGc(): number {
  if (collect === undefined) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
  return process.memoryUsage().heapUsed;
}
