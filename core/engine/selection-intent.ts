import { encode } from 'cborg';
import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import type { ServerSession } from '../net/server-session.js';
import { type Category, type Filters, loosened } from '../protocol/index.js';
import { readValue } from '../store/nv-value.js';
import type { PartsOf } from './terminal-parts.js';

/** What the choice of categories uses: NV for the intent, the registration, the records' catch-up and dirty state. */
export type SelectionParts = PartsOf<'config' | 'records', 'nv'>;
/**
 * A choice of categories the server may have taken but this terminal has
 * not recorded yet (a link drop or power cut in between). Under the sync
 * state (m/), so a factory erase forgets it; `registeredAt` ties it to the
 * registration it was made under.
 */
export interface SelectionIntent {
  categories: Category[];
  filters?: Filters;
  registeredAt: number;
}

const INTENT_KEY = 'm/categories-intent';

/** Keeps the choice in NV before it is sent. */
export async function keepSelection(parts: SelectionParts, intent: SelectionIntent): Promise<void> {
  await parts.hal.nv.commit([{ op: 'put', key: INTENT_KEY, value: encode(intent) }]);
}

/** Forgets the choice: not made after all. */
export async function dropSelection(parts: SelectionParts): Promise<void> {
  await parts.hal.nv.commit([{ op: 'del', key: INTENT_KEY }]);
}

/** The choice of categories waiting for the server's answer, if any (for this registration). */
export async function pendingSelection(parts: SelectionParts): Promise<SelectionIntent | undefined> {
  const intent = await readValue<SelectionIntent>(parts.hal.nv, INTENT_KEY);
  if (intent === undefined) return undefined;
  const registration = await parts.config.registration();
  return registration?.registeredAt === intent.registeredAt ? intent : undefined;
}

/**
 * At the start of a sync, under the terminal's lock: a choice of categories
 * whose answer was lost is sent again (the server takes the same choice
 * twice alike), so both sides hold the same categories before any upload.
 */
export async function resumeSelection(
  parts: SelectionParts,
  session: ServerSession,
  subscriber: string,
): Promise<void> {
  const stored = await readValue<SelectionIntent>(parts.hal.nv, INTENT_KEY);
  if (stored === undefined) return;
  const intent = await pendingSelection(parts);
  // Made under another registration, or (a power cut before its upload finished) it would strand changes.
  if (intent === undefined || (await strandable(parts, intent.categories)) > 0) {
    await parts.hal.nv.commit([{ op: 'del', key: INTENT_KEY }]);
    return;
  }
  try {
    await applySelection(parts, session, subscriber, intent);
  } catch (e) {
    await forgetIfRefused(parts, e);
    throw e;
  }
}

/** Sends the choice, then records it here: the catch-up first, then the registration with the intent's end. */
export async function applySelection(
  parts: SelectionParts,
  session: ServerSession,
  subscriber: string,
  intent: SelectionIntent,
): Promise<Category[]> {
  const reply = await session.request({
    type: 'set-categories',
    subscriber,
    categories: intent.categories,
    ...(intent.filters ? { filters: intent.filters } : {}),
  });
  const granted = expectReply(reply, 'ok').categories ?? intent.categories;
  const registration = await parts.config.registration();
  if (registration === undefined) throw new SyncError('not-registered', 'this terminal is not registered');
  const added = granted.filter((c) => !registration.categories.includes(c));
  const widened = loosened(registration.filters, intent.filters).filter((c) => granted.includes(c));
  // The catch-up is recorded first: a power cut before the registration is
  // updated leaves a harmless extra download, never a missing one.
  await parts.records.addCatchUp([...new Set([...added, ...widened])]);
  const { filters: _old, ...rest } = registration;
  const next = { ...rest, categories: granted, ...(intent.filters ? { filters: intent.filters } : {}) };
  await parts.hal.nv.commit([...parts.config.registrationOps(next), { op: 'del', key: INTENT_KEY }]);
  return granted;
}

/** The server's error reply settles it: the choice was not taken, and is not sent again. */
export async function forgetIfRefused(parts: SelectionParts, e: unknown): Promise<void> {
  if (e instanceof SyncError && e.kind === 'server-refused') {
    await parts.hal.nv.commit([{ op: 'del', key: INTENT_KEY }]);
  }
}

/** Changes in categories about to be removed that are not on the server yet (dirty, or in a batch in flight). */
export async function strandable(parts: SelectionParts, selected: readonly Category[]): Promise<number> {
  const registration = await parts.config.registration();
  const dropped = (registration?.categories ?? []).filter((c) => !selected.includes(c));
  if (dropped.length === 0) return 0;
  const { records } = parts;
  const inFlight = (await records.pendingBatch())?.items.some((i) => dropped.includes(i.category)) ? 1 : 0;
  return (await records.dirty(dropped)).length + inFlight;
}
