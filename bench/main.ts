import { save } from './report.js';

/**
 * `npm run bench -- <name> [--quick]`: each bench prints a table and writes
 * JSON under bench/results/. A bench module exports `run(options)`,
 * `print(result)` and `quick`, the options of its `--quick` variant.
 */
const BENCHES: Record<
  string,
  () => Promise<{ run: (o?: never) => Promise<never>; print: (r: never) => void; quick: unknown }>
> = {
  abuse: () => import('./abuse.js') as never,
  cluster: () => import('./cluster.js') as never,
  connections: () => import('./connections.js') as never,
  'first-sync': () => import('./first-sync.js') as never,
  'nv-store': () => import('./nv-store.js') as never,
  startup: () => import('./startup.js') as never,
  'sync-k-of-n': () => import('./sync-k-of-n.js') as never,
  'sync-throughput': () => import('./sync-throughput.js') as never,
  'wire-efficiency': () => import('./wire-efficiency.js') as never,
};

const [name, ...flags] = process.argv.slice(2);
if (name === undefined || !(name in BENCHES)) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [--quick]`);
  process.exit(2);
}
const bench = await BENCHES[name]!();
const quick = flags.includes('--quick');
const result = await bench.run((quick ? bench.quick : undefined) as never);
bench.print(result);
console.log(`wrote ${save(result)}`);
process.exit(0);
