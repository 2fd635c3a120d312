import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * What bench/peers.ts reads about a server process from /proc, the same way
 * for every system, without asking the process anything (so no system pays
 * for a collection or a reply while it is measured).
 */

/** CPU time of every thread of `pid`, ns (the first field of each /proc/<pid>/task/<tid>/schedstat). */
export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/** Peak resident set size since the last resetPeak (VmHWM), bytes. */
export function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

/** Resets the peak RSS of `pid` to its current RSS (`5` to /proc/<pid>/clear_refs, Linux ≥ 4.0). */
export function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/**
 * Waits until `pid` is quiet: less than `busyPct` % of one core over the
 * last `windowMs`, at most `maxMs`. Work a server defers past its reply
 * (a debounced save, a compaction, a WAL checkpoint) is then counted in its
 * CPU time too.
 */
export async function settle(pid: number, windowMs = 200, busyPct = 3, maxMs = 5_000): Promise<void> {
  const started = performance.now();
  let last = cpuNs(pid);
  while (performance.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = cpuNs(pid);
    if (now - last < windowMs * 1e6 * (busyPct / 100)) return;
    last = now;
  }
}
