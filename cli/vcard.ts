import { createHash } from 'node:crypto';
import ICAL from 'ical.js';
import {
  type ContentLine,
  firstProperty,
  type LineProblem,
  readComponents,
  type SourceComponent,
} from './content-lines.js';
import { decodeText } from './text-decoding.js';
import { decodeQuotedPrintableValue, deriveForParser, isQuotedPrintable } from './vcard-21.js';

/** One contact of a vCard file (2.1, RFC 2426 3.0, RFC 6350 4.0), kept as the user's file had it. */
export interface ContactCard {
  /** Record ID: the card's UID, else a digest of its text. */
  id: string;
  name: string;
  /** The card's source text (line ends CRLF or LF as in the file; CR CR LF and lone CR made CRLF). */
  text: string;
  uid?: string;
  /** Line of its BEGIN:VCARD in the file. */
  line: number;
  version: string;
  /** Things to tell the user about this card (a charset guessed, a value ical.js cannot read). */
  notes: string[];
}

export class CardFileError extends Error {
  override readonly name = 'CardFileError';
}

/** An item that could not be read, and why. */
export interface RejectedItem {
  line: number;
  reason: string;
}

/** Items with the same UID in one file, made one (RFC 6350 §6.7.6: a UID names one contact). */
export interface MergeNote {
  uid: string;
  lines: number[];
  how: string;
}

/** What reading a file gave: the items, and everything the user should be told. */
export interface ReadFile<T> {
  items: T[];
  rejected: RejectedItem[];
  merged: MergeNote[];
  warnings: LineProblem[];
  encoding: string;
}

/** A stable record ID from a UID (record IDs are at most 200 characters). */
export function recordIdFor(uid: string | undefined, text: string): string {
  if (uid && uid.length <= 200) return uid;
  return `sha256-${createHash('sha256')
    .update(uid ?? text)
    .digest('hex')
    .slice(0, 32)}`;
}

const unescapeText = (s: string) => s.replace(/\\([\\,;nN])/g, (_, c: string) => (/n/i.test(c) ? '\n' : c));

/** A name to show: FN, else N, else ORG, EMAIL or TEL (FN is optional in vCard 2.1). */
function displayName(card: ICAL.Component): string | undefined {
  const fn = card.getFirstPropertyValue('fn');
  if (typeof fn === 'string' && fn.trim()) return fn.trim();
  const n = card.getFirstProperty('n')?.getValues().flat();
  const fromN = Array.isArray(n)
    ? [n[3], n[1], n[2], n[0], n[4]].filter((x) => x && String(x).trim()).join(' ')
    : '';
  if (fromN) return fromN;
  for (const other of ['org', 'email', 'tel']) {
    const v = card.getFirstProperty(other)?.getValues().flat()[0];
    if (v && String(v).trim()) return String(v).trim();
  }
  return undefined;
}

function cardFrom(component: SourceComponent, text: string): ContactCard | RejectedItem {
  const versionLine = firstProperty(component, 'VERSION');
  const hasQp = component.properties.some((p) => /QUOTED-PRINTABLE/i.test(JSON.stringify(p.params)));
  const version = versionLine?.value.trim() || (hasQp ? '2.1' : '3.0');
  if (!['2.1', '3.0', '4.0'].includes(version)) {
    return { line: component.line, reason: `VERSION:${version} is not a vCard version (2.1, 3.0, 4.0)` };
  }
  const derived = deriveForParser(component, version);
  const notes = [...derived.warnings];
  let name: string | undefined;
  try {
    name = displayName(new ICAL.Component(ICAL.parse(derived.text) as never));
  } catch (e) {
    // Kept as written: only the name shown comes from our own reading then.
    notes.push(`kept as written, though ical.js cannot read it: ${(e as Error).message}`);
    const fn = firstProperty(component, 'FN') ?? firstProperty(component, 'N');
    name = fn
      ? (isQuotedPrintable(fn) ? decodeQuotedPrintableValue(fn).text : unescapeText(fn.value)).trim()
      : undefined;
  }
  const uidLine: ContentLine | undefined = firstProperty(component, 'UID');
  const uid = uidLine ? unescapeText(uidLine.value.trim()) || undefined : undefined;
  const body = text.slice(component.start, component.end);
  const cardText = /\n$/.test(body) ? body : `${body}\r\n`;
  return {
    id: recordIdFor(uid, cardText),
    name: (name || '(no name)').slice(0, 200),
    notes,
    text: cardText,
    ...(uid ? { uid } : {}),
    line: component.line,
    version,
  };
}

/** vCard 2.1 may carry another card as AGENT's value (vCard 2.1 §2.6.4); nothing else nests. */
const nests = (_outer: string, inner: string, previous: ContentLine | undefined) =>
  inner === 'VCARD' && previous?.name === 'AGENT' && previous.value.trim() === '';

/** Properties a contact has once (RFC 6350 cardinality 1 or *1): a merge keeps the newer card's. */
const SINGLE = new Set([
  'VERSION',
  'UID',
  'FN',
  'N',
  'REV',
  'PRODID',
  'BDAY',
  'ANNIVERSARY',
  'GENDER',
  'KIND',
]);

/**
 * Two cards with one UID in one file: the one with the later REV (else the
 * later in the file) wins, and lines only the other has are added to it,
 * save those a contact has once. Different versions are not mixed.
 */
function mergeCards(a: ContactCard, b: ContactCard, parsedA: SourceComponent, parsedB: SourceComponent) {
  const rev = (c: SourceComponent) => firstProperty(c, 'REV')?.value.trim() ?? '';
  const [base, other, baseC, otherC] =
    rev(parsedA) > rev(parsedB) ? [a, b, parsedA, parsedB] : [b, a, parsedB, parsedA];
  if (a.text === b.text) return { card: base, component: baseC, how: 'identical copies, kept once' };
  if (base.version !== other.version) {
    return { card: base, component: baseC, how: `kept the newer (line ${base.line}); versions differ` };
  }
  const key = (p: ContentLine) => `${p.group ?? ''}.${p.name};${JSON.stringify(p.params)}:${p.value}`;
  const have = new Set(baseC.properties.map(key));
  const extra = otherC.properties.filter((p) => !SINGLE.has(p.name) && !have.has(key(p)));
  if (extra.length === 0)
    return { card: base, component: baseC, how: `kept line ${base.line}; nothing new in the other` };
  const end = base.text.search(/^END[ \t]*:[ \t]*VCARD/im);
  const eol = base.text.includes('\r\n') ? '\r\n' : '\n';
  const added = extra.map((p) => (/\n$/.test(p.raw) ? p.raw : `${p.raw}${eol}`)).join('');
  const text = base.text.slice(0, end) + added + base.text.slice(end);
  const component = { ...baseC, properties: [...baseC.properties, ...extra] };
  return {
    card: { ...base, text },
    component,
    how: `merged into line ${base.line}: ${extra.length} line(s) added from line ${other.line}`,
  };
}

/**
 * Reads a vCard file: every card that can be read is kept, every other one
 * is reported with its line and reason; cards sharing a UID are merged.
 */
export function readVcardFile(input: Uint8Array | string): ReadFile<ContactCard> {
  const decoded =
    typeof input === 'string' ? { text: input, encoding: 'text', warnings: [] } : decodeText(input);
  const read = readComponents(decoded.text.replace(/^\uFEFF/, ''), { nests });
  const rejected: RejectedItem[] = read.broken.map((b) => ({ line: b.line, reason: b.reason }));
  const warnings: LineProblem[] = [...decoded.warnings, ...read.warnings];
  const byId = new Map<
    string,
    { card: ContactCard; component: SourceComponent; lines: number[]; how: string }
  >();
  const merged: MergeNote[] = [];
  for (const component of read.roots) {
    if (component.name !== 'VCARD') {
      rejected.push({ line: component.line, reason: `BEGIN:${component.name} is not a vCard` });
      continue;
    }
    const card = cardFrom(component, read.text);
    if (!('id' in card)) {
      rejected.push(card);
      continue;
    }
    for (const message of card.notes) warnings.push({ line: card.line, message });
    if (!firstProperty(component, 'FN') && card.version !== '2.1') {
      warnings.push({ line: card.line, message: `no FN (RFC 6350 §6.2.1 wants one); named "${card.name}"` });
    }
    const seen = byId.get(card.id);
    if (!seen) {
      byId.set(card.id, { card, component, lines: [card.line], how: '' });
      continue;
    }
    const m = mergeCards(seen.card, card, seen.component, component);
    byId.set(card.id, { ...m, lines: [...seen.lines, card.line] });
  }
  for (const { card, lines, how } of byId.values()) {
    if (lines.length > 1) merged.push({ uid: card.uid ?? card.id, lines, how });
  }
  return {
    items: [...byId.values()].map((e) => e.card),
    rejected,
    merged,
    warnings,
    encoding: decoded.encoding,
  };
}

/**
 * Splits a vCard file into its cards (see readVcardFile for the full
 * report). Throws CardFileError only when no card at all can be read.
 */
export function parseVcards(file: string): ContactCard[] {
  const read = readVcardFile(file);
  if (read.items.length === 0) {
    const why = read.rejected.map((r) => `line ${r.line}: ${r.reason}`).join('; ');
    throw new CardFileError(
      why ? `no card could be read (${why})` : 'no BEGIN:VCARD … END:VCARD block found',
    );
  }
  return read.items;
}

/** Is this stored text a vCard (and not, say, a note put in `contacts` by hand)? */
export function isVcardText(text: string): boolean {
  return /^\uFEFF?[ \t\r\n]*BEGIN[ \t]*:[ \t]*VCARD/i.test(text);
}

/** The cards as one vCard file (texts that are no vCard are left out: see exportContacts). */
export function formatVcards(cards: readonly string[]): string {
  return cards
    .filter(isVcardText)
    .map((c) => (c.endsWith('\n') ? c : `${c}\r\n`))
    .join('');
}
