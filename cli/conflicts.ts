import {
  CATEGORIES,
  type Category,
  type LocalRecord,
  parseConflictCopyId,
  type Terminal,
} from '../core/index.js';
import { CommandError } from './failure-text.js';
import { recordName } from './record-names.js';

type PersonalData = Awaited<ReturnType<Terminal['personalData']>>;

/**
 * A conflict as the user sees it ([0044], [0068]): two terminals edited the
 * same record since their common base; the server kept one as the record
 * and the other as a copy (`<id>~conflict~<losing terminal>~<editedAt>`,
 * core/protocol/conflict-copy.ts). "Mine" is this terminal's side.
 */
export interface ConflictView {
  /** 1-based, in the order `conflicts` lists them. */
  number: number;
  category: Category;
  recordId: string;
  copyId: string;
  /** The record as it stands; undefined when the winning change deleted it. */
  current: LocalRecord | undefined;
  copy: LocalRecord;
  losingTerminal: string;
  /** The copy holds this terminal's edit (its version lost). */
  copyIsMine: boolean;
}

export type Keep = 'mine' | 'theirs' | 'both';

/** Every conflict copy on this terminal, with the record it belongs to. */
export async function findConflicts(data: PersonalData, terminalId: string): Promise<ConflictView[]> {
  const out: ConflictView[] = [];
  for (const category of CATEGORIES) {
    const records = await data.list(category);
    const byId = new Map(records.map((r) => [r.id, r] as const));
    for (const copy of records) {
      const parsed = parseConflictCopyId(copy.id);
      if (parsed === undefined) continue;
      out.push({
        number: out.length + 1,
        category,
        recordId: parsed.recordId,
        copyId: copy.id,
        current: liveOrUndefined(byId.get(parsed.recordId)),
        copy,
        losingTerminal: parsed.losingTerminal,
        copyIsMine: parsed.losingTerminal === terminalId,
      });
    }
  }
  return out;
}

/** `conflicts`: each with both versions, which terminal made the kept copy, and when. */
export function describeConflicts(conflicts: readonly ConflictView[]): string[] {
  if (conflicts.length === 0) return ['no conflicts'];
  const lines: string[] = [];
  for (const c of conflicts) {
    lines.push(`${c.number}) ${c.category}/${c.recordId}`);
    const current = c.current
      ? `${version(c.current)}${c.copyIsMine ? ' (from another terminal)' : ' (this terminal)'}`
      : 'deleted (the deletion won)';
    const copy = `${version(c.copy)}, from ${c.copyIsMine ? 'this terminal' : `terminal ${c.losingTerminal}`}`;
    lines.push(`   kept as the record: ${current}`);
    lines.push(`   kept as a copy:     ${copy}`);
  }
  lines.push('resolve N --keep mine|theirs|both');
  return lines;
}

/** A record deleted here and not yet acknowledged has a null body: for the user, it is gone. */
function liveOrUndefined(r: LocalRecord | undefined): LocalRecord | undefined {
  return r?.body === null ? undefined : r;
}

function version(r: LocalRecord): string {
  const name = recordName(r);
  return `${name ? `"${name}", ` : ''}edited ${new Date(r.editedAt).toISOString()}`;
}

/**
 * `resolve N --keep mine|theirs|both`: the chosen version becomes the
 * record and the copy goes; with `both`, the copy becomes a record of its
 * own beside it. Plain edits and deletions: the next sync carries them.
 */
export async function resolveConflict(
  data: PersonalData,
  conflict: ConflictView,
  keep: Keep,
): Promise<string> {
  const { category, recordId, copy, current } = conflict;
  const copyWins = keep === 'mine' ? conflict.copyIsMine : keep === 'theirs' ? !conflict.copyIsMine : false;
  if (keep === 'both') {
    const id = `${recordId}-copy-${copy.editedAt}`;
    await data.edit(category, id, copy.body ?? new Uint8Array(), copy.meta);
    await data.delete(category, conflict.copyId);
    return `kept both: ${category}/${recordId} and ${category}/${id}`;
  }
  if (copyWins) await data.edit(category, recordId, copy.body ?? new Uint8Array(), copy.meta);
  await data.delete(category, conflict.copyId);
  const kept = copyWins ? 'the copy' : current ? 'the record as it stands' : 'the deletion';
  return `resolved ${category}/${recordId}: kept ${kept} (${keep})`;
}

/** The conflict a `resolve` argument names: its number in `conflicts`, or category/copy ID. */
export function pickConflict(conflicts: readonly ConflictView[], which: string | undefined): ConflictView {
  if (!which) throw new CommandError('usage: resolve N --keep mine|theirs|both (N from conflicts)');
  const found = /^\d+$/.test(which)
    ? conflicts[Number(which) - 1]
    : conflicts.find((c) => `${c.category}/${c.copyId}` === which || `${c.category}/${c.recordId}` === which);
  if (found === undefined) throw new CommandError(`no conflict ${which} (type conflicts)`);
  return found;
}

export function parseKeep(args: readonly string[]): Keep {
  const at = args.indexOf('--keep');
  const value = at >= 0 ? args[at + 1] : undefined;
  if (value === 'mine' || value === 'theirs' || value === 'both') return value;
  throw new CommandError('resolve needs --keep mine, --keep theirs or --keep both');
}
