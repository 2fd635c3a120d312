import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { type BenchResult, machine, median, percentile, printResult, type Row } from './report.js';

/**
 * Issue 16, start-up: how long a `simsync` call takes before it can answer,
 * beside `node -e 0` (the floor: Node itself) in the same run, interleaved so
 * the machine's noise falls on every command alike. Rows:
 * - `node -e 0`: the baseline;
 * - `simsync --help`, `simsync --version`, `simsync admin --help`: the
 *   compiled command in dist/ (bin/simsync.js, as users run it);
 * - `tsx cli/main.ts --help`: the same sources compiled on every call, what
 *   bin/simsync.js did before (the old way, for the ratio).
 * Target: `simsync --help` answers in under 300 ms (median), and within 3× of
 * `node -e 0`, so a shell completion or a script calling it in a loop does
 * not wait on it.
 */
export interface StartupOptions {
  runs?: number;
}

export const quick: StartupOptions = { runs: 5 };

const ROOT = path.resolve(import.meta.dirname, '..');

const COMMANDS: { name: string; args: string[] }[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'simsync --help', args: ['bin/simsync.js', '--help'] },
  { name: 'simsync --version', args: ['bin/simsync.js', '--version'] },
  { name: 'simsync admin --help', args: ['bin/simsync.js', 'admin', '--help'] },
  { name: 'tsx cli/main.ts --help', args: ['--import', 'tsx', 'cli/main.ts', '--help'] },
];

function once(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  return ms;
}

export async function run(options: StartupOptions = {}): Promise<BenchResult> {
  const runs = options.runs ?? 20;
  // One call first so dist/ is built and the file cache warm: what a user's second call sees.
  for (const command of COMMANDS) once(command.args);
  const times = new Map(COMMANDS.map((c) => [c.name, [] as number[]]));
  for (let i = 0; i < runs; i++) for (const c of COMMANDS) times.get(c.name)!.push(once(c.args));
  const floor = median(times.get('node -e 0')!);
  const rows: Row[] = COMMANDS.map((c) => {
    const ms = times.get(c.name)!;
    return {
      command: c.name,
      median_ms: median(ms),
      p90_ms: percentile(ms, 90),
      x_node: median(ms) / floor,
    };
  });
  const help = rows.find((r) => r.command === 'simsync --help')!;
  return {
    bench: 'startup',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: { runs },
    rows,
    targets: {
      'simsync --help median < 300 ms': Number(help.median_ms) < 300,
      'simsync --help within 3x of node -e 0': Number(help.x_node) <= 3,
    },
  };
}

export const print = printResult;
