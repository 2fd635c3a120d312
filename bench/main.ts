import { benchOptions } from './bench-options.js';
import { save } from './report.js';

/**
 * `npm run bench -- <name> [--quick] [--<option> <value>]…`: each bench
 * prints a table and writes JSON under bench/results/. A bench module exports
 * `run(options)`, `print(result)` and `quick`, the options of its `--quick`
 * variant, and may export `failed(result)`: true makes the command exit 1
 * (a gate for CI, as `npm run reliability -- --quick` is).
 *
 * Other flags become options of `run()`, over `quick` when both are given:
 * `--histories 50 --seed 7` → `{ histories: 50, seed: 7 }` (kebab-case to
 * camelCase; a value that reads as a number is one; a flag with no value is
 * true).
 */
interface BenchModule {
  run: (o?: never) => Promise<never>;
  print: (r: never) => void;
  quick: unknown;
  failed?: (r: never) => boolean;
}

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  abuse: () => import('./abuse.js') as never,
  cluster: () => import('./cluster.js') as never,
  compression: () => import('./compression.js') as never,
  connections: () => import('./connections.js') as never,
  'first-sync': () => import('./first-sync.js') as never,
  'nv-store': () => import('./nv-store.js') as never,
  peers: () => import('./peers.js') as never,
  reliability: () => import('./reliability.js') as never,
  sealed: () => import('./sealed.js') as never,
  'session-phases': () => import('./session-phases.js') as never,
  startup: () => import('./startup.js') as never,
  'sync-k-of-n': () => import('./sync-k-of-n.js') as never,
  'sync-throughput': () => import('./sync-throughput.js') as never,
  'wire-efficiency': () => import('./wire-efficiency.js') as never,
};

const [name, ...flags] = process.argv.slice(2);
if (name === undefined || !(name in BENCHES)) {
  console.error(
    `usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--quick] [--<option> <value>]…`,
  );
  process.exit(2);
}
const bench = await BENCHES[name]!();
let options: Record<string, unknown> | undefined;
try {
  options = benchOptions(flags, bench.quick);
} catch (e) {
  console.error(`bench ${name}: ${(e as Error).message}`);
  process.exit(2);
}
const result = await bench.run(options as never);
bench.print(result);
console.log(`wrote ${save(result)}`);
process.exit(bench.failed?.(result) ? 1 : 0);
