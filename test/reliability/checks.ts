import type { ChangeLogEntry } from '../../broker/index.js';
import { CATEGORIES, type Category, type Conflict, fromUtf8, parseConflictCopyId } from '../../core/index.js';
import type { HistoryWorld, Node } from './history-world.js';
import { IMSI } from './template.js';

export type ProblemKind =
  | 'lost-acknowledged'
  | 'duplicate'
  | 'unconverged'
  | 'conflict-without-loser'
  | 'wrong-refusal'
  | 'unexpected-error';

export interface Problem {
  kind: ProblemKind;
  detail: string;
}

/** What the model saw while the history ran: every acknowledgement told, every user write, every conflict. */
export interface Observations {
  /** Changes a sync report told a terminal the server acknowledged. */
  acks: { t: number; category: Category; id: string; seq: number; value: string | null; step: number }[];
  /** User writes that took effect: the value (null: deletion) and the base it was made on. */
  writes: { t: number; category: Category; id: string; base: number; value: string | null; step: number }[];
  conflicts: { t: number; conflict: Conflict }[];
}

type Area = Record<string, string>;

/**
 * The properties of issue 21, once the faults stopped and the final rounds
 * ran: every terminal holds exactly the server's data for its categories
 * and nothing unsent; the server holds every change a terminal was told was
 * acknowledged (or a later change made knowing it); no version is held
 * twice; every conflict left its loser (a deletion has none) and a notice on
 * both sides.
 */
export async function checkHistory(world: HistoryWorld, seen: Observations): Promise<Problem[]> {
  const problems: Problem[] = [];
  const area = await userArea(world);
  for (const node of world.nodes) problems.push(...(await converged(world, node, area)));
  problems.push(...(await acknowledged(world, seen, area)));
  problems.push(...duplicates(world, seen, area, await world.server.store.changeLog(IMSI)));
  problems.push(...(await conflicts(world, seen, area)));
  return problems;
}

async function userArea(world: HistoryWorld): Promise<Area> {
  const rows = await world.server.store.recordsAfter({
    subscriber: IMSI,
    after: 0,
    upTo: Number.MAX_SAFE_INTEGER,
    categories: CATEGORIES,
    limit: 1_000_000,
  });
  const out: Area = {};
  for (const r of rows) if (r.body !== null) out[`${r.category}/${r.recordId}`] = fromUtf8(r.body);
  return out;
}

async function converged(world: HistoryWorld, node: Node, area: Area): Promise<Problem[]> {
  const t = `t${node.index}`;
  const { terminal } = node;
  const registration = await terminal.registration();
  if (registration === undefined) return [{ kind: 'unconverged', detail: `${t} is not registered` }];
  const problems: Problem[] = [];
  const fail = (detail: string) => problems.push({ kind: 'unconverged', detail: `${t}: ${detail}` });
  const row = await world.server.store.getTerminal(terminal.terminalId);
  const mine = [...registration.categories].sort();
  const server = [...(row?.categories ?? [])].sort();
  if (mine.join() !== server.join())
    fail(`categories here ${mine.join()} but on the server ${server.join()}`);
  const held: Area = {};
  for (const c of registration.categories) {
    for (const r of await terminal.records.list(c))
      if (r.body !== null) held[`${c}/${r.id}`] = fromUtf8(r.body);
  }
  const expected = Object.fromEntries(
    Object.entries(area).filter(([key]) => registration.categories.includes(key.split('/')[0] as Category)),
  );
  for (const key of new Set([...Object.keys(held), ...Object.keys(expected)])) {
    if (held[key] === expected[key]) continue;
    fail(`${key} is ${short(held[key])} here, ${short(expected[key])} on the server`);
  }
  const dirty = await terminal.records.dirtyCount();
  if (dirty > 0) fail(`${dirty} change(s) still dirty`);
  if ((await terminal.records.pendingBatch()) !== undefined) fail('an upload batch still in flight');
  const aside = await terminal.records.setAside();
  if (aside.length > 0)
    fail(`set aside: ${aside.map((a) => `${a.category}/${a.id} (${a.reason})`).join('; ')}`);
  return problems;
}

async function acknowledged(world: HistoryWorld, seen: Observations, area: Area): Promise<Problem[]> {
  const problems: Problem[] = [];
  const log = await world.server.store.changeLog(IMSI);
  const bySeq = new Map(log.map((e) => [e.seq, e]));
  const values = new Set(Object.values(area));
  for (const ack of seen.acks) {
    const key = `${ack.category}/${ack.id}`;
    const what = `t${ack.t}'s ${ack.value === null ? 'deletion' : 'edit'} of ${key} acknowledged as seq ${ack.seq}`;
    const entry = bySeq.get(ack.seq);
    const origin = world.nodes[ack.t]?.terminal.terminalId;
    if (entry?.category !== ack.category || entry.recordId !== ack.id || entry.origin !== origin) {
      problems.push({ kind: 'lost-acknowledged', detail: `${what}: the change log has no such entry` });
      continue;
    }
    const same = (w: Observations['writes'][number]) => w.category === ack.category && w.id === ack.id;
    // A resent batch acknowledges the version it carried, which may precede the terminal's last write.
    if (entry.deleted !== (ack.value === null)) {
      const carried = seen.writes
        .filter((w) => w.t === ack.t && same(w) && (w.value === null) === entry.deleted)
        .at(-1);
      if (carried !== undefined) Object.assign(ack, { value: carried.value, step: carried.step });
    }
    if (ack.value !== null) {
      // Still there (maybe as a conflict copy), or changed later by someone who had it (a base at or past it),
      // Or by the same terminal's later write, whose base may not know the seq (its ack was lost).
      const later = seen.writes.some(
        (w) => same(w) && (w.base >= ack.seq || (w.t === ack.t && w.step > ack.step)),
      );
      if (values.has(ack.value) || later) continue;
      problems.push({ kind: 'lost-acknowledged', detail: `${what}: its version is nowhere on the server` });
      continue;
    }
    if (!(key in area) || seen.writes.some((w) => same(w) && w.step > ack.step)) continue;
    problems.push({ kind: 'lost-acknowledged', detail: `${what}: the record is back with no later edit` });
  }
  return problems;
}

function duplicates(
  world: HistoryWorld,
  seen: Observations,
  area: Area,
  log: readonly ChangeLogEntry[],
): Problem[] {
  const problems: Problem[] = [];
  // Each user write enters the change log at most once (an upload retried is applied once).
  const written = new Map<string, number>();
  for (const w of seen.writes) {
    const key = `${w.t}|${w.category}/${w.id}`;
    written.set(key, (written.get(key) ?? 0) + 1);
  }
  const logged = new Map<string, number>();
  for (const e of log) {
    const t = world.nodes.findIndex((n) => n.terminal.terminalId === e.origin);
    const key = `${t}|${e.category}/${e.recordId}`;
    logged.set(key, (logged.get(key) ?? 0) + 1);
  }
  for (const [key, n] of logged) {
    if (parseConflictCopyId(key.split('/').slice(1).join('/')) !== undefined) continue;
    const writes = written.get(key) ?? 0;
    if (n > writes)
      problems.push({
        kind: 'duplicate',
        detail: `t${key.replace('|', "'s ")} entered the change log ${n} times for ${writes} write(s)`,
      });
  }
  const holders = new Map<string, string[]>();
  for (const [key, value] of Object.entries(area)) holders.set(value, [...(holders.get(value) ?? []), key]);
  for (const [value, keys] of holders) {
    if (keys.length > 1)
      problems.push({ kind: 'duplicate', detail: `${short(value)} is held by ${keys.join(' and ')}` });
  }
  const seqs = new Map<number, string>();
  for (const ack of seen.acks) {
    const key = `${ack.category}/${ack.id}`;
    const other = seqs.get(ack.seq);
    if (other !== undefined && other !== key) {
      problems.push({ kind: 'duplicate', detail: `seq ${ack.seq} acknowledged for ${other} and ${key}` });
    }
    seqs.set(ack.seq, key);
  }
  return problems;
}

async function conflicts(world: HistoryWorld, seen: Observations, area: Area): Promise<Problem[]> {
  const problems: Problem[] = [];
  const lost = (detail: string) => problems.push({ kind: 'conflict-without-loser', detail });
  const told = (node: Node | undefined, id: string) =>
    node?.agent.notices.some(
      (n) => n.kind === 'conflict' && n.recordId === id && !n.detail.startsWith('possible'),
    ) ?? false;
  const log = await world.server.store.changeLog(IMSI);
  for (const { t, conflict } of seen.conflicts) {
    const { category, id, copyId, outcome } = conflict;
    const what = `t${t}'s conflict on ${category}/${id} (${outcome})`;
    const reporter = world.nodes[t];
    if (!told(reporter, id)) lost(`${what}: its user was not told`);
    if (copyId === undefined) {
      // The loser was a deletion: the previous version on the server, or this terminal's own change.
      const ack = seen.acks.find((a) => a.t === t && a.category === category && a.id === id);
      const before = log
        .filter((e) => e.category === category && e.recordId === id && e.seq < (ack?.seq ?? 0))
        .at(-1);
      const mine = seen.writes.filter((w) => w.t === t && w.category === category && w.id === id).at(-1);
      const deletionLost = outcome === 'lost' && mine?.value === null;
      if (!(outcome === 'won' ? before?.deleted === true : deletionLost))
        lost(`${what}: no copy, and the loser was not a deletion`);
      continue;
    }
    if (!(`${category}/${copyId}` in area)) lost(`${what}: the copy ${copyId} is not on the server`);
    const losing = parseConflictCopyId(copyId)?.losingTerminal;
    const other = world.nodes.find((n) => n.terminal.terminalId === losing && n.index !== t);
    const syncsIt = (await other?.terminal.registration())?.categories.includes(category) ?? false;
    if (other !== undefined && syncsIt && !told(other, id))
      lost(`${what}: t${other.index}, whose version lost, was not told`);
  }
  for (const node of world.nodes) {
    for (const notice of node.agent.notices) {
      if (notice.kind !== 'conflict') continue;
      if (notice.detail.includes('undefined')) lost(`t${node.index} was told "${notice.detail}"`);
      const copy = /(?:saved|kept) as (\S+)$/.exec(notice.detail)?.[1];
      if (copy !== undefined && !(`${notice.category}/${copy}` in area)) {
        lost(`t${node.index} was told of the copy ${copy}, which the server does not hold`);
      }
    }
  }
  return problems;
}

function short(value: string | undefined): string {
  if (value === undefined) return 'absent';
  const tag = value.replace(/~+$/, '');
  return `"${tag}"`;
}
