import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type Row = Record<string, string | number | boolean>;

export interface BenchResult {
  bench: string;
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memGiB: number; node: string };
  parameters: Record<string, unknown>;
  rows: Row[];
  /** Targets checked against this run's own figures: name → met? */
  targets: Record<string, boolean>;
}

export function machine(): BenchResult['machine'] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** Prints rows as an aligned table (also valid Markdown). */
export function table(rows: readonly Row[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]!);
  const cell = (v: unknown) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}

/** Writes the result as JSON under bench/results/ and returns the path. */
export function save(result: BenchResult, dir = 'bench/results'): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${result.bench}-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(dir, `${result.bench}-latest.json`), `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Prints the table, then each target as met or MISSED. */
export function printResult(result: BenchResult): void {
  console.log(table(result.rows));
  for (const [target, met] of Object.entries(result.targets))
    console.log(`${met ? 'met    ' : 'MISSED '} ${target}`);
}
