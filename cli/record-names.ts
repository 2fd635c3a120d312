import { fromUtf8, type LocalRecord } from '../core/index.js';

/** How much of a body is read to find its name: names sit near the top of a vCard or an event. */
const HEAD_BYTES = 8192;
const NAME_CHARS = 60;

/**
 * The name a person knows a record by, for `ls` (issue 16): the title kept
 * with it (an import stores FN or SUMMARY there), else the vCard's FN (RFC
 * 6350 §6.2.1) or the event's SUMMARY (RFC 5545 §3.8.1.12) read from the
 * body, else its first line.
 */
export function recordName(record: LocalRecord): string | undefined {
  const title = record.meta?.title?.trim();
  if (title) return clip(title);
  if (!record.body || record.body.length === 0) return undefined;
  const text = fromUtf8(record.body.subarray(0, HEAD_BYTES));
  const property = /BEGIN:VCARD/i.test(text)
    ? 'FN'
    : /BEGIN:VCALENDAR|BEGIN:VEVENT|BEGIN:VTODO/i.test(text)
      ? 'SUMMARY'
      : undefined;
  const value = property === undefined ? undefined : propertyValue(text, property);
  if (value) return clip(value);
  const first = text.split(/\r?\n/, 1)[0]?.trim();
  return first ? clip(first) : undefined;
}

/** A content line's value (RFC 6350 §3.2 / RFC 5545 §3.1: folded lines joined, text escapes undone). */
function propertyValue(text: string, name: string): string | undefined {
  const unfolded = text.replace(/\r?\n[ \t]/g, '');
  const match = new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, 'im').exec(unfolded);
  return match?.[1]
    ?.replace(/\\[nN]/g, ' ')
    .replace(/\\([,;\\])/g, '$1')
    .trim();
}

function clip(text: string): string {
  return text.length > NAME_CHARS ? `${text.slice(0, NAME_CHARS - 1)}…` : text;
}
