import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Category, fromUtf8, type LocalRecord, type RecordMeta, utf8 } from '../core/index.js';
import type { LineProblem } from './content-lines.js';
import { exportCalendar, readCalendarFile } from './ical.js';
import {
  isVcardText,
  type MergeNote,
  type ReadFile,
  type RejectedItem,
  readVcardFile,
  recordIdFor,
} from './vcard.js';

/** What import and export need of a terminal (core's Terminal has all of it). */
export interface RecordTarget {
  records: { list(category: Category): Promise<LocalRecord[]> };
  edit(category: Category, id: string, body: Uint8Array, meta?: RecordMeta): Promise<unknown>;
  /** [0094]: the substance of a record that is only a stub here. */
  fetch?(category: Category, id: string): Promise<LocalRecord | undefined>;
}

export interface Progress {
  done: number;
  total: number;
}

export interface ImportOptions {
  /**
   * The address book or calendar the items come from, kept as the records'
   * folder ([0033]); default the file's name. A UID already imported from
   * another source is kept beside it, not over it.
   */
  source?: string;
  /** Refuse the whole file (import nothing) when any item is rejected. */
  strict?: boolean;
  onProgress?: (p: Progress) => void;
}

/** The same UID arrived from a second source: both kept. */
export interface KeptBoth {
  uid: string;
  otherSource: string;
  storedAs: string;
}

export interface ImportReport {
  kind: 'contacts' | 'calendar';
  file: string;
  source: string;
  encoding: string;
  /** New records. */
  imported: number;
  /** Records of this source that changed since the last import. */
  updated: number;
  unchanged: number;
  merged: MergeNote[];
  keptBoth: KeptBoth[];
  rejected: RejectedItem[];
  warnings: LineProblem[];
  /** Strict mode met a rejected item, so nothing was imported. */
  strictRefused: boolean;
  /** Nothing could be imported, or strict mode refused the file: the command should exit non-zero. */
  failed: boolean;
}

export interface ExportReport {
  kind: 'contacts' | 'calendar';
  file: string;
  exported: number;
  /** Records of the category that are not of this format (IDs), left out. */
  skipped: string[];
  /** UIDs that more than one exported record has (kept from several sources). */
  sharedUids: string[];
}

const CATEGORY = { contacts: 'contacts', calendar: 'pim' } as const satisfies Record<string, Category>;
/** [0033] folders are at most 64 characters (core/protocol Folder). */
const sourceName = (file: string, source?: string) =>
  (source ?? path.basename(file)).slice(0, 64) || 'import';

function uidOf(item: { id: string; uid?: string }): string {
  return item.uid ?? item.id;
}

async function importItems(
  target: RecordTarget,
  kind: 'contacts' | 'calendar',
  file: string,
  read: ReadFile<{ id: string; text: string; uid?: string; name?: string; summary?: string }>,
  options: ImportOptions,
): Promise<ImportReport> {
  const category = CATEGORY[kind];
  const source = sourceName(file, options.source);
  const report: ImportReport = {
    kind,
    file,
    source,
    encoding: read.encoding,
    imported: 0,
    updated: 0,
    unchanged: 0,
    merged: read.merged,
    keptBoth: [],
    rejected: read.rejected,
    warnings: read.warnings,
    strictRefused: false,
    failed: false,
  };
  if (options.strict && read.rejected.length > 0) return { ...report, strictRefused: true, failed: true };
  const existing = new Map((await target.records.list(category)).map((r) => [r.id, r] as const));
  const total = read.items.length;
  options.onProgress?.({ done: 0, total });
  for (const [i, item] of read.items.entries()) {
    let id = item.id;
    let before = existing.get(id);
    // Address books keep a UID from another source beside the first, not over it.
    if (before?.body && before.meta?.folder !== source) {
      const otherSource = before.meta?.folder ?? '(no source)';
      for (let n = 1; before?.body && before.meta?.folder !== source; n++) {
        id = recordIdFor(`${uidOf(item)}@${source}${n > 1 ? `#${n}` : ''}`, '');
        before = existing.get(id);
      }
      report.keptBoth.push({ uid: uidOf(item), otherSource, storedAs: id });
    }
    const body = utf8(item.text);
    if (before?.body && fromUtf8(before.body) === item.text) report.unchanged++;
    else {
      await target.edit(category, id, body, {
        title: (item.name ?? item.summary ?? '').slice(0, 200),
        folder: source,
      });
      if (before?.body) report.updated++;
      else report.imported++;
    }
    options.onProgress?.({ done: i + 1, total });
  }
  report.failed = report.imported + report.updated + report.unchanged === 0;
  return report;
}

/** Imports a vCard file (2.1, 3.0, 4.0) into `contacts`: every readable card, and a report of the rest. */
export function importContacts(
  target: RecordTarget,
  file: string,
  options: ImportOptions = {},
): Promise<ImportReport> {
  return importItems(target, 'contacts', file, readVcardFile(readFileSync(file)), options);
}

/** Imports an iCalendar file into `pim`: every readable item, and a report of the rest. */
export function importCalendar(
  target: RecordTarget,
  file: string,
  options: ImportOptions = {},
): Promise<ImportReport> {
  return importItems(target, 'calendar', file, readCalendarFile(readFileSync(file)), options);
}

export interface ExportOptions {
  /** Only the records of this source (the folder an import gave them). */
  source?: string;
  onProgress?: (p: Progress) => void;
}

async function bodiesOf(target: RecordTarget, category: Category, options: ExportOptions) {
  const records = (await target.records.list(category)).filter(
    (r) => r.body !== null && (options.source === undefined || r.meta?.folder === options.source),
  );
  const out: { id: string; text: string }[] = [];
  for (const [i, r] of records.entries()) {
    const full = r.stub && target.fetch ? await target.fetch(category, r.id) : r;
    if (full?.body) out.push({ id: r.id, text: fromUtf8(full.body) });
    options.onProgress?.({ done: i + 1, total: records.length });
  }
  return out;
}

const sharedUids = (uids: (string | undefined)[]) => {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const u of uids) if (u) (seen.has(u) ? twice : seen).add(u);
  return [...twice];
};

/** Writes `contacts` as one vCard file; records that are no vCard are reported, not written. */
export async function exportContacts(target: RecordTarget, file: string, options: ExportOptions = {}) {
  const records = await bodiesOf(target, 'contacts', options);
  const cards = records.filter((r) => isVcardText(r.text));
  writeFileSync(file, cards.map((c) => (c.text.endsWith('\n') ? c.text : `${c.text}\r\n`)).join(''));
  const uids = cards.map((c) => /^UID(?:;[^:\r\n]*)?:([^\r\n]*)/im.exec(c.text)?.[1]?.trim());
  const report: ExportReport = {
    kind: 'contacts',
    file,
    exported: cards.length,
    skipped: records.filter((r) => !isVcardText(r.text)).map((r) => r.id),
    sharedUids: sharedUids(uids),
  };
  return report;
}

/** Writes `pim` as one iCalendar file; records that are no calendar are reported, not written. */
export async function exportCalendarFile(target: RecordTarget, file: string, options: ExportOptions = {}) {
  const records = await bodiesOf(target, 'pim', options);
  const result = exportCalendar(records.map((r) => r.text));
  writeFileSync(file, result.text);
  const report: ExportReport = {
    kind: 'calendar',
    file,
    exported: result.exported,
    skipped: result.skipped.map((i) => records[i]!.id),
    sharedUids: [],
  };
  return report;
}

const MAX_LISTED = 20;

function listed<T>(items: T[], line: (t: T) => string): string[] {
  const out = items.slice(0, MAX_LISTED).map((t) => `    ${line(t)}`);
  if (items.length > MAX_LISTED) out.push(`    … and ${items.length - MAX_LISTED} more`);
  return out;
}

/** The report as the lines a person reads at the terminal. */
export function describeImport(r: ImportReport): string[] {
  const what = r.kind === 'contacts' ? 'contact(s)' : 'calendar item(s)';
  const counts = [`imported ${r.imported} ${what}`];
  if (r.updated) counts.push(`updated ${r.updated}`);
  if (r.unchanged) counts.push(`${r.unchanged} unchanged`);
  if (r.merged.length) counts.push(`merged ${r.merged.length}`);
  if (r.rejected.length) counts.push(`rejected ${r.rejected.length}`);
  const lines = [`${counts.join(', ')} from ${r.file} (source "${r.source}", ${r.encoding})`];
  if (r.rejected.length) {
    lines.push(`  rejected (not imported):`, ...listed(r.rejected, (x) => `line ${x.line}: ${x.reason}`));
  }
  if (r.merged.length) {
    lines.push(
      `  same UID more than once in this file:`,
      ...listed(r.merged, (m) => `${m.uid} (lines ${m.lines.join(', ')}): ${m.how}`),
    );
  }
  if (r.keptBoth.length) {
    lines.push(
      `  already imported from another source, kept both:`,
      ...listed(r.keptBoth, (k) => `${k.uid} (also in "${k.otherSource}"), this one stored as ${k.storedAs}`),
    );
  }
  if (r.warnings.length)
    lines.push(`  warnings:`, ...listed(r.warnings, (w) => `line ${w.line}: ${w.message}`));
  if (r.strictRefused) lines.push('  strict mode: a rejected item, so nothing was imported');
  else if (r.failed) lines.push('  nothing could be imported');
  return lines;
}

export function describeExport(r: ExportReport): string[] {
  const what = r.kind === 'contacts' ? 'contact(s)' : 'calendar item(s)';
  const lines = [`exported ${r.exported} ${what} to ${r.file}`];
  if (r.skipped.length) {
    lines.push(
      `  left out (not ${r.kind === 'contacts' ? 'a vCard' : 'a calendar'}):`,
      ...listed(r.skipped, (id) => id),
    );
  }
  if (r.sharedUids.length) {
    lines.push(`  UIDs kept from more than one source, both written:`, ...listed(r.sharedUids, (u) => u));
  }
  return lines;
}

/**
 * A progress bar on `output` for an import or export of more than `minimum`
 * items (cli-progress, as the download bar in tty-agent.ts); call the
 * returned function with each step, it stops the bar at the end.
 */
export function progressBar(
  output: NodeJS.WritableStream,
  label: string,
  minimum = 200,
): (p: Progress) => void {
  let bar: SingleBar | undefined;
  return ({ done, total }) => {
    if (total < minimum) return;
    if (bar === undefined) {
      bar = new SingleBar({
        format: `${label.padEnd(8)} [{bar}] {value}/{total} items`,
        stream: output,
        noTTYOutput: true,
        notTTYSchedule: 200,
        hideCursor: false,
        clearOnComplete: false,
      });
      bar.start(total, done);
    }
    bar.update(done);
    if (done >= total) {
      bar.stop();
      bar = undefined;
    }
  };
}
