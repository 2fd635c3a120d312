import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCalendarFile } from '../../cli/ical.js';
import { readVcardFile } from '../../cli/vcard.js';
import { crash, type FuzzOptions, type FuzzResult, mutateBytes, newResult } from './fuzz-result.js';
import { Seeded } from './seeded.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Seeds larger than this are left out: a mutation of a big file costs its whole parse. */
const MAX_SEED_BYTES = 4096;

function corpus(dir: string, extra: string): Uint8Array[] {
  const files = readdirSync(path.join(ROOT, dir)).map((f) => path.join(ROOT, dir, f));
  return [path.join(ROOT, extra), ...files]
    .filter((f) => statSync(f).size <= MAX_SEED_BYTES)
    .map((f) => new Uint8Array(readFileSync(f)));
}

let seeds: { vcard: Uint8Array[]; ical: Uint8Array[] } | undefined;

const PROPERTY_LINES = [
  'BEGIN:VCARD',
  'END:VCARD',
  'BEGIN:VEVENT',
  'END:VEVENT',
  'BEGIN:VCALENDAR',
  'END:VCALENDAR',
  'VERSION:2.1',
  'VERSION:4.0',
  'UID:same',
  'FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=97=A5=',
  'N:;;;;',
  ' folded continuation',
  'TEL;TYPE=cell:+81',
  'RRULE:FREQ=MONTHLY;BYMONTH=13',
  'DTSTART;TZID=Nowhere:20261301T250000',
  'RECURRENCE-ID:20261208T100000',
  'PHOTO;ENCODING=b:////',
  'X-\u0000:\uFFFD',
];

/** One line-level mutation: a line dropped, repeated, swapped, cut, or a known-tricky line put in. */
function mutateLines(random: Seeded, text: string): string {
  const lines = text.split(/\r?\n/);
  const at = random.int(lines.length + 1);
  switch (random.int(5)) {
    case 0:
      lines.splice(at, 1);
      break;
    case 1:
      lines.splice(at, 0, lines[random.int(lines.length)] ?? '');
      break;
    case 2:
      lines.splice(at, 0, random.pick(PROPERTY_LINES));
      break;
    case 3:
      lines.length = at;
      break;
    default: {
      const line = lines[at] ?? '';
      lines[at] = line.slice(0, random.int(line.length + 1));
    }
  }
  return lines.join(random.chance(0.5) ? '\r\n' : '\n');
}

/**
 * Issue 21 fuzzing: vCard and iCalendar import (cli/vcard.ts, cli/ical.ts)
 * with files of the real-world corpus mutated line by line and byte by byte
 * (broken encodings included: the input goes in as bytes). A file read is a
 * report of items and rejections; reading must never throw, and every item
 * has a record ID fit for the wire (1–200 characters) and text.
 */
export function fuzzImport(options: FuzzOptions): FuzzResult {
  seeds ??= {
    vcard: corpus('test/fixtures/real-world/vcard', 'cli/fixtures/contacts.vcf'),
    ical: corpus('test/fixtures/real-world/ical', 'cli/fixtures/calendar.ics'),
  };
  const random = new Seeded(options.seed);
  const result = newResult('vcard-ical', options.seed);
  const encoder = new TextEncoder();
  for (let i = 0; i < options.count; i++) {
    const kind = random.chance(0.5) ? 'vcard' : 'ical';
    const seed = random.pick(seeds[kind]);
    const input = random.chance(0.5)
      ? encoder.encode(mutateLines(random, new TextDecoder().decode(seed)))
      : mutateBytes(random, seed);
    result.inputs++;
    try {
      const read = kind === 'vcard' ? readVcardFile(input) : readCalendarFile(input);
      for (const item of read.items) {
        if (item.id.length < 1 || item.id.length > 200)
          throw new Error(`record ID of ${item.id.length} characters`);
        if (item.text.length === 0) throw new Error('an item with no text');
      }
      if (read.items.length > 0) result.accepted++;
      else result.refused++;
    } catch (e) {
      crash(result, i, `${kind} ${JSON.stringify(new TextDecoder().decode(input))}`, e);
    }
  }
  return result;
}
