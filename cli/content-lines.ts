/**
 * The line structure shared by vCard (RFC 6350 §3.3, RFC 2425 §5.8.1, vCard
 * 2.1 §2.1) and iCalendar (RFC 5545 §3.1): physical lines, folded content
 * lines, and BEGIN/END components, each with its line number and its exact
 * source text.
 *
 * Written by hand on purpose: ical.js (our parser for values) keeps neither
 * line numbers nor source text — its serialiser re-types values
 * (ical.js#620: `DTSTART:20240704` comes back as `2024-07-04T::`) — and
 * refuses a whole file for one bad line, while an import must keep each
 * item's text as the user's program wrote it and name the line of each
 * item it cannot read. Nothing here interprets a value.
 */

export interface Param {
  /** Upper-cased; undefined for a vCard 2.1 bare parameter (`TEL;WORK;VOICE:`). */
  name: string | undefined;
  /** Raw values, double quotes removed. */
  values: string[];
}

export interface ContentLine {
  /** First physical line (1-based). */
  line: number;
  group: string | undefined;
  /** Upper-cased. */
  name: string;
  params: Param[];
  /** The value as written (unfolded; not unescaped, not decoded). */
  value: string;
  /** The source text of the line, folds and line end included. */
  raw: string;
}

export interface SourceComponent {
  /** Upper-cased: VCARD, VCALENDAR, VEVENT, X-FOO, … */
  name: string;
  line: number;
  endLine: number;
  /** Offsets of the BEGIN line's start and just past the END line's line end, in the normalised text. */
  start: number;
  end: number;
  properties: ContentLine[];
  children: SourceComponent[];
  /** Source text of the BEGIN line and of the END line ('' when it is missing). */
  head: string;
  tail: string;
}

export interface LineProblem {
  line: number;
  message: string;
}

/** A top-level component the reader could not accept, with the reason. */
export interface BrokenComponent {
  name: string;
  line: number;
  reason: string;
}

export interface ReadResult {
  /** The text with CR CR LF and lone CR line ends made CRLF (what `start`/`end` index). */
  text: string;
  roots: SourceComponent[];
  broken: BrokenComponent[];
  /** Lines outside any component, and other things worth telling. */
  warnings: LineProblem[];
}

interface PhysicalLine {
  no: number;
  start: number;
  /** Offset past the line end. */
  end: number;
  content: string;
}

/**
 * CR CR LF (iPhone exports) and a lone CR (classic Mac, some UTF-16 files)
 * end a line like CRLF does; both become CRLF so every later reader agrees.
 */
export function normaliseLineEnds(text: string): string {
  return text.replace(/\r\r\n/g, '\r\n').replace(/\r(?!\n)/g, '\r\n');
}

function physicalLines(text: string): PhysicalLine[] {
  const out: PhysicalLine[] = [];
  const re = /\r\n|\n/g;
  let start = 0;
  let no = 1;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ no: no++, start, end: m.index + m[0].length, content: text.slice(start, m.index) });
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push({ no, start, end: text.length, content: text.slice(start) });
  return out;
}

/** Index of the first `:` outside double quotes, or -1. */
function valueColon(s: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) return i;
  }
  return -1;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(s.slice(from, i));
      from = i + 1;
    }
  }
  out.push(s.slice(from));
  return out;
}

const NAME = /^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9_-]+)$/;

/** Parses one unfolded content line; a string is the reason it is not one. */
export function parseContentLine(unfolded: string, line: number, raw = unfolded): ContentLine | string {
  const colon = valueColon(unfolded);
  if (colon < 0) return `not a content line (no ":"): ${JSON.stringify(unfolded.slice(0, 60))}`;
  const [head = '', ...rawParams] = splitOutsideQuotes(unfolded.slice(0, colon), ';');
  // RFC 5545 §3.1 allows no space here, but exporters write "DTEND :…" or "DTEND; VALUE=DATE".
  const m = NAME.exec(head.trim());
  if (!m) return `not a property name: ${JSON.stringify(head.slice(0, 60))}`;
  const params: Param[] = [];
  for (const raw of rawParams) {
    const eq = raw.indexOf('=');
    const name = eq < 0 ? undefined : raw.slice(0, eq).trim().toUpperCase();
    const values = splitOutsideQuotes(eq < 0 ? raw.trim() : raw.slice(eq + 1), ',').map((v) =>
      v.trim().replace(/^"(.*)"$/s, '$1'),
    );
    if (raw.trim() === '') continue;
    params.push({ name, values });
  }
  return { line, group: m[1], name: m[2]!.toUpperCase(), params, value: unfolded.slice(colon + 1), raw };
}

/** vCard 2.1 §2.1.3: a quoted-printable value may continue past a line ending in "=" (a soft line break). */
function isQuotedPrintable(unfolded: string): boolean {
  const colon = valueColon(unfolded);
  return colon > 0 && /QUOTED-PRINTABLE/i.test(unfolded.slice(0, colon));
}

/** vCard 2.1 §2.1.3: base64 data may go on over lines that are not indented, until a blank line. */
function continuesBase64(unfolded: string, next: string): boolean {
  const colon = valueColon(unfolded);
  return (
    colon > 0 &&
    /[;:]\s*(?:ENCODING\s*=\s*)?BASE64\b/i.test(`${unfolded.slice(0, colon)}:`) &&
    /^[A-Za-z0-9+/=]+$/.test(next.trim())
  );
}

interface Logical {
  line: number;
  /** Last physical line it takes. */
  last: number;
  start: number;
  end: number;
  unfolded: string;
}

/** Unfolds physical lines into content lines (RFC 5545 §3.1: CRLF followed by one space or tab). */
function logicalLines(lines: PhysicalLine[]): Logical[] {
  const out: Logical[] = [];
  let current: Logical | undefined;
  for (const l of lines) {
    const continues = current !== undefined && (l.content.startsWith(' ') || l.content.startsWith('\t'));
    const softBreak = current?.unfolded.endsWith('=') === true && isQuotedPrintable(current.unfolded);
    if (current && continues && !softBreak) {
      current.unfolded += l.content.slice(1);
      current.last = l.no;
      current.end = l.end;
      continue;
    }
    if (current && !continues && continuesBase64(current.unfolded, l.content)) {
      current.unfolded += l.content.trim();
      current.last = l.no;
      current.end = l.end;
      continue;
    }
    if (current && softBreak) {
      current.unfolded = current.unfolded.slice(0, -1) + l.content;
      current.last = l.no;
      current.end = l.end;
      continue;
    }
    // Blank lines carry nothing (ical.js samples/blank_line_mid.ics); a fold may even go on after one.
    if (l.content.trim() === '') continue;
    current = { line: l.no, last: l.no, start: l.start, end: l.end, unfolded: l.content };
    out.push(current);
  }
  return out;
}

/** Components whose children are the items (RFC 5545 §3.4). */
const CONTAINERS = new Set(['VCALENDAR']);

interface Open {
  component: SourceComponent;
  error: string | undefined;
}

/**
 * Reads the BEGIN/END structure of a file. An item that is not well formed
 * (a line that is no content line, a BEGIN with no END) is set aside as
 * broken with its line and reason; reading goes on with the next item.
 * `isRoot(name)` says which BEGIN starts a new item even inside an open one
 * (a vCard does not nest, save a vCard 2.1 AGENT).
 */
export function readComponents(
  input: string,
  options: { nests: (outer: string, inner: string, previous: ContentLine | undefined) => boolean },
): ReadResult {
  const text = normaliseLineEnds(input);
  const physical = physicalLines(text);
  const startOf = new Map(physical.map((l) => [l.no, l] as const));
  const roots: SourceComponent[] = [];
  const broken: BrokenComponent[] = [];
  const warnings: LineProblem[] = [];
  const stack: Open[] = [];

  const close = (open: Open, endLine: number, reason?: string) => {
    const c = open.component;
    c.endLine = endLine;
    c.end = startOf.get(endLine)?.end ?? text.length;
    const parent = stack[stack.length - 1];
    const error = reason && open.error ? `${reason} (and ${open.error})` : (reason ?? open.error);
    // A calendar holds items; one broken item is reported alone, the calendar and its other items stay.
    if (parent && CONTAINERS.has(parent.component.name) && error) {
      broken.push({ name: c.name, line: c.line, reason: error });
      return;
    }
    if (parent) {
      if (error) parent.error ??= `${c.name} at line ${c.line}: ${error}`;
      else parent.component.children.push(c);
      return;
    }
    if (error) broken.push({ name: c.name, line: c.line, reason: error });
    else roots.push(c);
  };

  let previousLast = 0;
  for (const l of logicalLines(physical)) {
    const before = previousLast;
    previousLast = l.last;
    const raw = text.slice(l.start, l.end);
    const parsed = parseContentLine(l.unfolded, l.line, raw);
    const top = stack[stack.length - 1];
    if (typeof parsed === 'string') {
      if (top && CONTAINERS.has(top.component.name))
        warnings.push({ line: l.line, message: `ignored: ${parsed}` });
      else if (top) top.error ??= `line ${l.line}: ${parsed}`;
      else warnings.push({ line: l.line, message: `outside any item, ignored: ${parsed}` });
      continue;
    }
    if (parsed.name === 'BEGIN') {
      const name = parsed.value.trim().toUpperCase();
      const previous = top?.component.properties[top.component.properties.length - 1];
      while (stack.length > 0 && !options.nests(stack[stack.length - 1]!.component.name, name, previous)) {
        const open = stack.pop()!;
        close(open, before, `BEGIN:${open.component.name} has no END:${open.component.name}`);
      }
      const s = startOf.get(l.line)!;
      stack.push({
        component: {
          name,
          line: l.line,
          endLine: l.line,
          start: s.start,
          end: l.end,
          properties: [],
          children: [],
          head: raw,
          tail: '',
        },
        error: undefined,
      });
      continue;
    }
    if (parsed.name === 'END') {
      const name = parsed.value.trim().toUpperCase();
      const at = stack.map((o) => o.component.name).lastIndexOf(name);
      if (at < 0) {
        if (top) top.error ??= `line ${l.line}: END:${name} without BEGIN:${name}`;
        else warnings.push({ line: l.line, message: `END:${name} without BEGIN:${name}, ignored` });
        continue;
      }
      while (stack.length > at + 1) {
        const open = stack.pop()!;
        close(open, before, `BEGIN:${open.component.name} has no END:${open.component.name}`);
      }
      const ending = stack.pop()!;
      ending.component.tail = raw;
      close(ending, l.last);
      continue;
    }
    if (top) top.component.properties.push(parsed);
    else warnings.push({ line: l.line, message: `${parsed.name} outside any item, ignored` });
  }
  const last = physical[physical.length - 1]?.no ?? 0;
  while (stack.length > 0) {
    const open = stack.pop()!;
    const name = open.component.name;
    // A calendar whose last line is missing still holds complete items.
    if (stack.length === 0 && name === 'VCALENDAR' && open.error === undefined) {
      warnings.push({ line: open.component.line, message: 'BEGIN:VCALENDAR has no END:VCALENDAR' });
      close(open, last);
    } else close(open, last, `BEGIN:${name} has no END:${name}`);
  }
  return { text, roots, broken, warnings };
}

/** Value of the first parameter `name` (upper case), if any. */
export function paramValue(line: ContentLine, name: string): string | undefined {
  return line.params.find((p) => p.name === name)?.values[0];
}

/** The first property `name`, if any. */
export function firstProperty(component: SourceComponent, name: string): ContentLine | undefined {
  return component.properties.find((p) => p.name === name);
}
