import ICAL from 'ical.js';
import {
  type ContentLine,
  firstProperty,
  type LineProblem,
  paramValue,
  readComponents,
  type SourceComponent,
} from './content-lines.js';
import { decodeText } from './text-decoding.js';
import { CardFileError, type MergeNote, type ReadFile, type RejectedItem, recordIdFor } from './vcard.js';

/**
 * One calendar item: the components sharing a UID (an event and its
 * recurrence exceptions), or a component with no UID (VFREEBUSY, X-…), or a
 * time zone no item uses, or the properties of a calendar with no items.
 */
export interface CalendarItem {
  id: string;
  summary: string;
  /**
   * A complete VCALENDAR made of source text only: the file's BEGIN line and
   * calendar properties (METHOD, X-WR-CALNAME, RFC 7986 NAME/COLOR…), the
   * VTIMEZONEs the item refers to, the item's components, the END line.
   */
  text: string;
  line: number;
}

const PRODID = '-//simsync//calendar//EN';
/** RFC 5545 §3.6: these are never inside one another; X- and IANA components may hold anything. */
const FLAT = new Set(['VEVENT', 'VTODO', 'VJOURNAL', 'VFREEBUSY', 'VTIMEZONE', 'VAVAILABILITY']);
const nests = (outer: string, inner: string) =>
  inner !== 'VCALENDAR' && !(FLAT.has(outer) && FLAT.has(inner));

const sourceOf = (text: string, c: SourceComponent) => {
  const s = text.slice(c.start, c.end);
  return /\n$/.test(s) ? s : `${s}\r\n`;
};

function tzidsOf(c: SourceComponent, out = new Set<string>()): Set<string> {
  for (const p of c.properties) {
    const tzid = paramValue(p, 'TZID');
    if (tzid) out.add(tzid);
  }
  for (const child of c.children) tzidsOf(child, out);
  return out;
}

const unescapeText = (s: string) => s.replace(/\\([\\,;nN])/g, (_, c: string) => (/n/i.test(c) ? '\n' : c));

const recurrenceKey = (c: SourceComponent) => {
  const r = firstProperty(c, 'RECURRENCE-ID');
  return `${c.name}|${r ? `${paramValue(r, 'TZID') ?? ''}:${r.value.trim()}` : ''}`;
};

/**
 * Components with one UID are one item (an event and its exceptions). Two
 * with the same RECURRENCE-ID (or none) are not guessed between: both stay
 * in the item, so the export still has both; only exact copies go, and
 * either way the user is told.
 */
function withoutCopies(
  text: string,
  key: string,
  all: SourceComponent[],
  merged: MergeNote[],
): SourceComponent[] {
  const uid = key.startsWith('uid:') ? key.slice(4) : '(no UID)';
  const out: SourceComponent[] = [];
  const seen = new Map<string, SourceComponent>();
  const clashes = new Map<string, SourceComponent[]>();
  for (const c of all) {
    const source = sourceOf(text, c);
    const copy = seen.get(source);
    if (copy) {
      merged.push({ uid, lines: [copy.line, c.line], how: `an exact copy of line ${copy.line}, kept once` });
      continue;
    }
    seen.set(source, c);
    const k = recurrenceKey(c);
    clashes.set(k, [...(clashes.get(k) ?? []), c]);
    out.push(c);
  }
  for (const same of clashes.values()) {
    if (same.length < 2) continue;
    merged.push({
      uid,
      lines: same.map((c) => c.line),
      how: `${same.length} ${same[0]!.name}s with one UID and RECURRENCE-ID, all kept in one item`,
    });
  }
  return out;
}

interface Calendar {
  /** BEGIN line and calendar properties, as written. */
  header: string;
  tail: string;
  zones: Map<string, SourceComponent>;
  components: SourceComponent[];
  line: number;
  endLine: number;
}

function calendarsOf(
  roots: SourceComponent[],
  warnings: LineProblem[],
  rejected: RejectedItem[],
): Calendar[] {
  const out: Calendar[] = [];
  const loose: SourceComponent[] = [];
  for (const root of roots) {
    if (root.name !== 'VCALENDAR') {
      // RFC 5545 §3.6 lets new components in (iana-comp, x-comp); a vCard is none of them.
      if (root.name === 'VCARD') rejected.push({ line: root.line, reason: 'a vCard, not a calendar item' });
      else loose.push(root);
      continue;
    }
    const eol = root.head.endsWith('\r\n') ? '\r\n' : '\n';
    const zones = new Map<string, SourceComponent>();
    for (const z of root.children.filter((c) => c.name === 'VTIMEZONE')) {
      const tzid = firstProperty(z, 'TZID')?.value.trim() ?? '';
      if (zones.has(tzid))
        warnings.push({ line: z.line, message: `a second VTIMEZONE ${tzid}; the first is used` });
      else zones.set(tzid, z);
    }
    const head = /\n$/.test(root.head) ? root.head : `${root.head}${eol}`;
    const tail = root.tail
      ? /\n$/.test(root.tail)
        ? root.tail
        : `${root.tail}${eol}`
      : `END:VCALENDAR${eol}`;
    out.push({
      header:
        head +
        root.properties.map((p: ContentLine) => (/\n$/.test(p.raw) ? p.raw : `${p.raw}${eol}`)).join(''),
      tail,
      zones,
      components: root.children.filter((c) => c.name !== 'VTIMEZONE'),
      line: root.line,
      endLine: root.endLine,
    });
  }
  if (loose.length > 0) {
    warnings.push({
      line: loose[0]!.line,
      message: `${loose.length} component(s) with no VCALENDAR around them`,
    });
    const zones = new Map(
      loose
        .filter((c) => c.name === 'VTIMEZONE')
        .map((z) => [firstProperty(z, 'TZID')?.value.trim() ?? '', z]),
    );
    out.push({
      header: `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:${PRODID}\r\n`,
      tail: 'END:VCALENDAR\r\n',
      zones,
      components: loose.filter((c) => c.name !== 'VTIMEZONE'),
      line: loose[0]!.line,
      endLine: loose[loose.length - 1]!.endLine,
    });
  }
  return out;
}

function summaryOf(text: string, fallback: string): string {
  try {
    const cal = new ICAL.Component(ICAL.parse(text) as never);
    const first = cal.getAllSubcomponents().find((c) => c.name !== 'vtimezone') ?? cal;
    const s = first.getFirstPropertyValue('summary') ?? first.getFirstPropertyValue('name');
    return typeof s === 'string' && s.trim() ? s.trim().slice(0, 200) : fallback;
  } catch {
    return fallback;
  }
}

/** What ical.js says of an item it cannot read (a value it finds invalid, say), if anything. */
function icalRefusal(text: string): string | undefined {
  try {
    ICAL.parse(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Reads an iCalendar file (RFC 5545): one item per UID, each a VCALENDAR of
 * the file's own text; items that cannot be read are reported with their
 * line, copies with the same UID and RECURRENCE-ID are merged (the newer
 * kept). Several VCALENDARs in one file (RFC 5545 §3.4) are all read.
 */
export function readCalendarFile(input: Uint8Array | string): ReadFile<CalendarItem> {
  const decoded =
    typeof input === 'string' ? { text: input, encoding: 'text', warnings: [] } : decodeText(input);
  const read = readComponents(decoded.text.replace(/^\uFEFF/, ''), { nests });
  const rejected: RejectedItem[] = read.broken.map((b) => ({ line: b.line, reason: b.reason }));
  const warnings: LineProblem[] = [...decoded.warnings, ...read.warnings];
  const merged: MergeNote[] = [];
  const items: CalendarItem[] = [];
  const seenIds = new Set<string>();
  for (const cal of calendarsOf(read.roots, warnings, rejected)) {
    const groups = new Map<string, SourceComponent[]>();
    const used = new Set<string>();
    for (const c of cal.components) {
      const uid = firstProperty(c, 'UID')?.value.trim();
      const key = uid ? `uid:${unescapeText(uid)}` : `text:${sourceOf(read.text, c)}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    const emit = (
      components: SourceComponent[],
      zones: SourceComponent[],
      uid: string | undefined,
      what: string,
    ) => {
      const text =
        cal.header +
        zones.map((z) => sourceOf(read.text, z)).join('') +
        components.map((c) => sourceOf(read.text, c)).join('') +
        cal.tail;
      const line = components[0]?.line ?? zones[0]?.line ?? cal.line;
      // The text is kept as written either way: a value ical.js finds odd (RFC 7529 BYMONTH=13, say) is told, not dropped.
      const refusal = icalRefusal(text);
      if (refusal)
        warnings.push({ line, message: `kept as written, though ical.js cannot read it: ${refusal}` });
      let id = recordIdFor(uid, uid ? '' : text);
      // The same UID in two VCALENDARs of one file: the second is a distinct item of the same source.
      for (let n = 2; seenIds.has(id); n++) id = recordIdFor(`${uid ?? text}#${n}`, '');
      seenIds.add(id);
      items.push({ id, summary: summaryOf(text, what), text, line });
    };
    for (const [key, all] of groups) {
      const components = withoutCopies(read.text, key, all, merged);
      const tzids = new Set(components.flatMap((c) => [...tzidsOf(c)]));
      for (const t of tzids) used.add(t);
      const zones = [...tzids].flatMap((t) => (cal.zones.has(t) ? [cal.zones.get(t)!] : []));
      const uid = key.startsWith('uid:') ? key.slice(4) : undefined;
      emit(components, zones, uid, `(${components[0]!.name.toLowerCase()} with no summary)`);
    }
    // A time zone no item uses is kept too: a file of time zones is still the user's file.
    for (const [tzid, zone] of cal.zones)
      if (!used.has(tzid)) emit([], [zone], undefined, `time zone ${tzid}`);
    const hadBroken = rejected.some((r) => r.line > cal.line && r.line <= cal.endLine);
    if (cal.components.length === 0 && cal.zones.size === 0 && !hadBroken) {
      emit([], [], undefined, 'calendar properties');
    }
  }
  return { items, rejected, merged, warnings, encoding: decoded.encoding };
}

/** Splits an iCalendar file into items (see readCalendarFile); throws only when no item can be read. */
export function parseCalendar(file: string): CalendarItem[] {
  const read = readCalendarFile(file);
  if (read.items.length === 0) {
    const why = read.rejected.map((r) => `line ${r.line}: ${r.reason}`).join('; ');
    throw new CardFileError(
      why ? `no calendar item could be read (${why})` : 'not an iCalendar file (no VCALENDAR)',
    );
  }
  return read.items;
}

export interface CalendarExport {
  text: string;
  exported: number;
  /** Indexes of the texts that are no calendar (put in `pim` by hand, say), left out. */
  skipped: number[];
}

interface OutCalendar {
  header: string;
  tail: string;
  zones: Map<string, string>;
  parts: string[];
}

/**
 * Items back into VCALENDARs: items whose calendar properties are the same
 * share one VCALENDAR, each time zone once; an item whose VTIMEZONE differs
 * from one already there for that TZID goes to another VCALENDAR, so no
 * item is given another file's time zone rules.
 */
export function exportCalendar(items: readonly string[]): CalendarExport {
  const out: OutCalendar[] = [];
  const skipped: number[] = [];
  let exported = 0;
  for (const [index, text] of items.entries()) {
    const read = readComponents(text, { nests });
    const root = read.roots.find((r) => r.name === 'VCALENDAR');
    if (!root || read.broken.length > 0) {
      skipped.push(index);
      continue;
    }
    const [cal] = calendarsOf([root], [], []);
    if (!cal) continue;
    const zones = new Map([...cal.zones].map(([t, z]) => [t, sourceOf(read.text, z)] as const));
    const fits = (o: OutCalendar) =>
      o.header === cal.header && [...zones].every(([t, z]) => (o.zones.get(t) ?? z) === z);
    let target = out.find(fits);
    if (!target) {
      target = { header: cal.header, tail: cal.tail, zones: new Map(), parts: [] };
      out.push(target);
    }
    for (const [t, z] of zones) target.zones.set(t, z);
    target.parts.push(...cal.components.map((c) => sourceOf(read.text, c)));
    exported++;
  }
  const text = out.map((o) => o.header + [...o.zones.values()].join('') + o.parts.join('') + o.tail).join('');
  return { text, exported, skipped };
}

/** Items back into one iCalendar file (see exportCalendar). */
export function formatCalendar(items: readonly string[]): string {
  return exportCalendar(items).text;
}
