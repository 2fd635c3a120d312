import { decode as decodeQuotedPrintable } from 'libqp';
import type { ContentLine, Param, SourceComponent } from './content-lines.js';

/**
 * vCard 2.1 (IMC, 1996) and the 2.1 habits that phones keep writing into
 * 3.0 files, read into a vCard 3.0 text that ical.js can parse. ical.js has
 * no vCard 2.1 (ical.js#187, open since 2015; PR #389 closed, #958 a draft),
 * nor does any maintained JavaScript vCard parser decode quoted-printable
 * with a charset (node-vcf#50: "wontfix"), so this derivation is ours. The
 * quoted-printable decoding itself is nodemailer's libqp; charsets are the
 * platform's TextDecoder. What is derived here is only read (names, UIDs,
 * validation); the stored card stays the text the user's file had.
 */

/** vCard 2.1 §2.1.2: bare parameter values and the parameter they belong to. */
const BARE_ENCODINGS = new Set(['QUOTED-PRINTABLE', 'BASE64', '8BIT', '7BIT', 'B']);
const BARE_VALUES = new Set(['INLINE', 'URL', 'CONTENT-ID', 'CID']);

function bareParamName(value: string): string {
  const v = value.toUpperCase();
  if (BARE_ENCODINGS.has(v)) return 'ENCODING';
  if (BARE_VALUES.has(v)) return 'VALUE';
  return 'TYPE';
}

/** The parameters with names: `TEL;WORK;VOICE` has TYPE=WORK and TYPE=VOICE. */
export function namedParams(params: readonly Param[]): { name: string; values: string[] }[] {
  return params.map((p) => ({ name: p.name ?? bareParamName(p.values[0] ?? ''), values: p.values }));
}

function param(line: ContentLine, name: string): string | undefined {
  return namedParams(line.params).find((p) => p.name === name)?.values[0];
}

export function isQuotedPrintable(line: ContentLine): boolean {
  return param(line, 'ENCODING')?.toUpperCase() === 'QUOTED-PRINTABLE';
}

export interface DecodedValue {
  text: string;
  /** Set when the bytes did not fit the charset and Windows-1252 was used. */
  warning?: string;
}

/**
 * A quoted-printable value as text: its bytes decoded with its CHARSET
 * (vCard 2.1 §2.1.6 says the default is ASCII; real files mean UTF-8 or
 * their Windows code page, so UTF-8 is tried first and Windows-1252 last).
 */
export function decodeQuotedPrintableValue(line: ContentLine): DecodedValue {
  const bytes = decodeQuotedPrintable(line.value);
  const label = param(line, 'CHARSET');
  for (const candidate of [label, 'utf-8']) {
    if (!candidate) continue;
    try {
      return { text: new TextDecoder(candidate, { fatal: true }).decode(bytes) };
    } catch {
      // Unknown label or bytes that do not fit: try the next.
    }
  }
  return {
    text: new TextDecoder('windows-1252').decode(bytes),
    warning: `line ${line.line}: ${label ? `CHARSET=${label} does not fit` : 'no CHARSET'}; read as Windows-1252`,
  };
}

/** vCard 2.1 text → vCard 3.0 text value (RFC 2426 §4: `\,` and `\n` escapes; 2.1 escapes only `;`). */
function escape21As30(text: string, structured: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === ';') {
      out += '\\;';
      i++;
    } else if (c === '\\') out += '\\\\';
    else if (c === ',') out += '\\,';
    else if (c === ';' && !structured) out += '\\;';
    else if (c === '\r' && text[i + 1] === '\n') {
      out += '\\n';
      i++;
    } else if (c === '\n' || c === '\r') out += '\\n';
    else out += c;
  }
  return out;
}

/** RFC 2426 §3: properties whose value has `;`-separated components. */
const STRUCTURED = new Set(['N', 'ADR', 'ORG', 'GENDER', 'CLIENTPIDMAP']);

function paramText(p: { name: string; values: string[] }): string {
  const values = p.values.map((v) => (/[;:,]/.test(v) ? `"${v.replace(/"/g, "'")}"` : v));
  return `${p.name}=${values.join(',')}`;
}

export interface DerivedCard {
  text: string;
  warnings: string[];
}

/**
 * The card as a vCard 3.0/4.0 text ical.js reads: bare parameters named,
 * quoted-printable decoded, CHARSET gone, 2.1 escapes turned into 3.0 ones,
 * base64 as `ENCODING=b`. A 3.0/4.0 card keeps its version and escapes.
 */
export function deriveForParser(card: SourceComponent, version: string): DerivedCard {
  const v21 = version.startsWith('2');
  const warnings: string[] = [];
  const lines = ['BEGIN:VCARD'];
  for (const line of card.properties) {
    const name = line.group ? `${line.group}.${line.name}` : line.name;
    if (line.name === 'VERSION') {
      lines.push(`VERSION:${v21 ? '3.0' : version}`);
      continue;
    }
    let value = line.value;
    let params = namedParams(line.params).filter((p) => p.name !== 'CHARSET');
    const encoding = params.find((p) => p.name === 'ENCODING')?.values[0]?.toUpperCase();
    if (encoding === 'QUOTED-PRINTABLE') {
      const decoded = decodeQuotedPrintableValue(line);
      if (decoded.warning) warnings.push(decoded.warning);
      value = decoded.text;
      params = params.filter((p) => p.name !== 'ENCODING');
      if (!v21) value = value.replace(/\r?\n/g, '\\n');
    } else if (encoding === 'BASE64') {
      params = params.map((p) => (p.name === 'ENCODING' ? { name: 'ENCODING', values: ['b'] } : p));
    } else if (encoding !== undefined && !['B', 'b'].includes(encoding)) {
      params = params.filter((p) => p.name !== 'ENCODING');
    }
    if (v21 && encoding !== 'BASE64') value = escape21As30(value, STRUCTURED.has(line.name));
    lines.push(`${[name, ...params.map(paramText)].join(';')}:${value}`);
  }
  lines.push('END:VCARD', '');
  return { text: lines.join('\r\n'), warnings };
}
