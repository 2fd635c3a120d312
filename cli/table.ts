/**
 * Output of the operator tools (issue 16): a table with ISO 8601 times for
 * people by default, JSON lines for scripts with `--json`. Times are ISO
 * 8601 in both (every `…At` field), so `expiresAt` reads the same in every
 * command.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

/** Every `…At` field that holds epoch milliseconds, as ISO 8601. */
export function withIsoTimes<T extends object>(row: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = /At$/.test(key) && typeof value === 'number' ? new Date(value).toISOString() : value;
  }
  return out;
}

/** The cell text of a value: ISO times, lists joined, booleans as yes/no, nothing as "—". */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.join(',');
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

export function iso(ms: number | null | undefined): string | undefined {
  return ms === null || ms === undefined ? undefined : new Date(ms).toISOString();
}

/** The rows as an aligned table, one header line; "(none)" when there are no rows. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((line) => line[i]!.length)));
  const line = (parts: string[]) =>
    parts
      .map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}

/** One record as "key  value" lines, for a command that answers with one thing. */
export function fields(entries: readonly [string, unknown][]): string[] {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`);
}

/** Prints rows as JSON lines (ISO times) or as the table. */
export function printRows<T extends object>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  json: boolean,
  print: (line: string) => void = (l) => console.log(l),
): void {
  if (json) {
    for (const r of rows) print(JSON.stringify(withIsoTimes(r)));
    return;
  }
  for (const l of table(rows, columns)) print(l);
}
