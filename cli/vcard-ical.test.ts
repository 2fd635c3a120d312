import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Category, LocalRecord, RecordMeta } from '../core/index.js';
import { exportCalendar, formatCalendar, parseCalendar, readCalendarFile } from './ical.js';
import {
  describeImport,
  exportContacts,
  importCalendar,
  importContacts,
  progressBar,
  type RecordTarget,
} from './import-report.js';
import { CardFileError, formatVcards, parseVcards, readVcardFile } from './vcard.js';

const vcf = readFileSync('cli/fixtures/contacts.vcf', 'utf8');
const ics = readFileSync('cli/fixtures/calendar.ics', 'utf8');
const corpus = (kind: 'vcard' | 'ical', name: string) =>
  readFileSync(`test/fixtures/real-world/${kind}/${name}`);
const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
const calendar = (...body: string[]) =>
  crlf(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...body, 'END:VCALENDAR']);

/** An in-memory terminal store: what import and export see of a terminal. */
class MemoryTarget implements RecordTarget {
  readonly rows = new Map<string, LocalRecord>();
  readonly records = {
    list: async (category: Category) => [...this.rows.values()].filter((r) => r.category === category),
  };
  async edit(category: Category, id: string, body: Uint8Array, meta?: RecordMeta) {
    const r: LocalRecord = {
      category,
      id,
      body,
      base: 0,
      editedAt: 0,
      dirty: true,
      ...(meta ? { meta } : {}),
    };
    this.rows.set(`${category}/${id}`, r);
    return r;
  }
}

describe('vCard (RFC 6350) import/export', () => {
  it('splits a phone export into cards keyed by UID, a digest when there is none', () => {
    const cards = parseVcards(vcf);
    expect(cards.map((c) => c.name)).toEqual(['Hanako Tanaka', 'Dr. Émile Zola', 'No Uid Person']);
    expect(cards[0]!.id).toBe('2F3C9E52-7B8A-4C1E-9D3F-0A1B2C3D4E5F');
    expect(cards[2]!.id).toMatch(/^sha256-[0-9a-f]{32}$/);
  });

  it('round-trips the file byte for byte (folded lines, escapes, vCard 3 and 4)', () => {
    expect(formatVcards(parseVcards(vcf).map((c) => c.text))).toBe(vcf);
  });

  it('refuses a file with no card with a typed error; a 4.0 card without FN is kept with a warning', () => {
    expect(() => parseVcards('hello')).toThrow(CardFileError);
    const read = readVcardFile('BEGIN:VCARD\r\nVERSION:4.0\r\nTEL:1\r\nEND:VCARD\r\n');
    expect(read.items.map((c) => c.name)).toEqual(['1']);
    expect(read.warnings[0]!.message).toMatch(/no FN/);
  });
});

describe('issue 15 item 3: vCard 2.1 and the files phones write', () => {
  it('reads vCard 2.1 with QUOTED-PRINTABLE, CHARSET, bare TYPE parameters and soft line breaks (Android)', () => {
    const read = readVcardFile(corpus('vcard', 'ezvcard--John_Doe_ANDROID.vcf'));
    expect(read.rejected).toEqual([]);
    expect(read.items).toHaveLength(6);
    // N and FN are quoted-printable UTF-8 ("=C3=91"), one of them across a soft line break.
    expect(read.items[3]!.name).toBe('Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ');
    expect(read.items[3]!.text).toContain('TEL;CELL;PREF:123456\r\n');
  });

  it('reads a card without FN (optional in 2.1) and a PHOTO;BASE64 (Outlook, BlackBerry)', () => {
    const android = readVcardFile(corpus('vcard', 'ezvcard--John_Doe_ANDROID.vcf'));
    expect(android.items[0]!.name).toBe('john.doe@company.com');
    const outlook = readVcardFile(corpus('vcard', 'folkerkinzel--Photo-Outlook-v2.vcf'));
    expect(outlook.rejected).toEqual([]);
    expect(outlook.items[0]!.text).toMatch(/^PHOTO;TYPE=JPEG;ENCODING=BASE64:/m);
    expect(readVcardFile(corpus('vcard', 'ezvcard--outlook-2007.vcf')).items[0]!.name).toBe(
      'Mr. Michael Angstadt Jr.',
    );
  });

  it('reads CR CR LF line ends (iPhone) and stores CRLF', () => {
    const read = readVcardFile(corpus('vcard', 'ezvcard--John_Doe_IPHONE.vcf'));
    expect(read.items.map((c) => c.name)).toEqual(['Mr. John Richter James Doe Sr.']);
    expect(read.items[0]!.text).not.toContain('\r\r');
  });

  it('reads UTF-16 with a BOM, and keeps the first card of a UTF-8 file with a BOM', () => {
    const utf16 = readVcardFile(corpus('vcard', 'folkerkinzel--ansi-v3Utf16Bom.vcf'));
    expect(utf16.items.map((c) => c.name)).toEqual(['Folker Kinzel', 'KMS Außenstelle']);
    const three = `\uFEFF${['A', 'B', 'C'].map((n) => crlf(['BEGIN:VCARD', 'VERSION:3.0', `FN:${n}`, 'END:VCARD'])).join('')}`;
    const read = readVcardFile(new TextEncoder().encode(three));
    expect(read.items.map((c) => c.name)).toEqual(['A', 'B', 'C']);
    expect(read.encoding).toBe('utf-8 (BOM)');
  });

  it('decodes Windows-1252 text, and says which lines it guessed', () => {
    const read = readVcardFile(corpus('vcard', 'folkerkinzel--ansi-German.vcf'));
    expect(read.items[0]!.name).toBe('Sören Täve Nüßlebaum');
    expect(read.items[0]!.text).not.toContain('\uFFFD');
    expect(read.warnings.map((w) => w.line)).toEqual([3, 4, 5]);
    expect(read.warnings[0]!.message).toMatch(/Windows-1252/);
  });
});

describe('issue 15 item 4: one bad card never rejects the file', () => {
  const cards = Array.from({ length: 100 }, (_, i) =>
    i === 57
      ? crlf(['BEGIN:VCARD', 'VERSION:3.0', 'FN:Broken', 'this line is no content line'])
      : crlf(['BEGIN:VCARD', 'VERSION:3.0', `FN:Person ${i + 1}`, `UID:p${i + 1}`, 'END:VCARD']),
  );

  it('card 58 of 100 broken: 99 imported, the broken one reported with its line and reason', () => {
    const read = readVcardFile(cards.join(''));
    expect(read.items).toHaveLength(99);
    expect(read.rejected).toEqual([
      {
        line: 57 * 5 + 1,
        reason:
          'BEGIN:VCARD has no END:VCARD (and line 289: not a content line (no ":"): "this line is no content line")',
      },
    ]);
  });

  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'simsync-vcf-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the import report counts imported and rejected; failure only when nothing is imported, or in strict mode', async () => {
    const file = path.join(dir, 'my contacts.vcf');
    writeFileSync(file, cards.join(''));
    const target = new MemoryTarget();
    const steps: number[] = [];
    const report = await importContacts(target, file, { onProgress: (p) => steps.push(p.done) });
    expect([report.imported, report.rejected.length, report.failed]).toEqual([99, 1, false]);
    expect(steps.at(-1)).toBe(99);
    expect(describeImport(report).join('\n')).toMatch(
      /imported 99 contact\(s\), rejected 1 .*\n.*\n {4}line 286: /,
    );

    const strict = await importContacts(new MemoryTarget(), file, { strict: true });
    expect([strict.imported, strict.failed]).toEqual([0, true]);
    writeFileSync(file, cards[57]!);
    expect((await importContacts(new MemoryTarget(), file)).failed).toBe(true);
  });
});

describe('issue 15: progress of a long import or export', () => {
  it('shows a bar with the known total, and none for a short file', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => {
      text += d;
    });
    const step = progressBar(out, 'import', 3);
    for (let done = 0; done <= 5; done++) step({ done, total: 5 });
    expect(text).toContain('5/5 items');
    const quiet = new PassThrough();
    progressBar(quiet, 'import', 3)({ done: 1, total: 2 });
    expect(quiet.read()).toBeNull();
  });
});

describe('issue 15 item 5: the same UID twice', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'simsync-uid-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const card = (fn: string, ...more: string[]) =>
    crlf(['BEGIN:VCARD', 'VERSION:3.0', `FN:${fn}`, 'UID:u-1', ...more, 'END:VCARD']);

  it('within one file: merged into one contact, and the user is told', () => {
    const read = readVcardFile(
      card('Ann', 'TEL:1', 'REV:20200101T000000Z') + card('Ann B.', 'EMAIL:a@b', 'REV:20240101T000000Z'),
    );
    expect(read.items).toHaveLength(1);
    expect(read.items[0]!.name).toBe('Ann B.');
    expect(read.items[0]!.text).toContain('EMAIL:a@b');
    expect(read.items[0]!.text).toContain('TEL:1');
    expect(read.merged).toEqual([{ uid: 'u-1', lines: [1, 8], how: expect.stringMatching(/merged/) }]);
  });

  it('across two files: both kept, with a notice; a second import of the same file changes nothing', async () => {
    const target = new MemoryTarget();
    writeFileSync(path.join(dir, 'phone.vcf'), card('Ann'));
    writeFileSync(path.join(dir, 'work.vcf'), card('Ann at work'));
    await importContacts(target, path.join(dir, 'phone.vcf'));
    const second = await importContacts(target, path.join(dir, 'work.vcf'));
    expect(second.keptBoth).toEqual([{ uid: 'u-1', otherSource: 'phone.vcf', storedAs: 'u-1@work.vcf' }]);
    expect(describeImport(second).join('\n')).toMatch(/kept both/);
    expect([...target.rows.keys()].sort()).toEqual(['contacts/u-1', 'contacts/u-1@work.vcf']);
    const again = await importContacts(target, path.join(dir, 'phone.vcf'));
    expect([again.imported, again.unchanged, again.keptBoth.length]).toEqual([0, 1, 0]);
    const out = path.join(dir, 'out.vcf');
    const exported = await exportContacts(target, out);
    expect(exported.sharedUids).toEqual(['u-1']);
    expect(readFileSync(out, 'utf8')).toBe(card('Ann') + card('Ann at work'));
  });

  it('events: the same UID in two calendar files is kept twice, not overwritten', async () => {
    const target = new MemoryTarget();
    const event = (summary: string) =>
      calendar('BEGIN:VEVENT', 'UID:e-1', 'DTSTAMP:20240101T000000Z', `SUMMARY:${summary}`, 'END:VEVENT');
    writeFileSync(path.join(dir, 'home.ics'), event('Dentist'));
    writeFileSync(path.join(dir, 'work.ics'), event('Review'));
    await importCalendar(target, path.join(dir, 'home.ics'));
    const second = await importCalendar(target, path.join(dir, 'work.ics'));
    expect(second.keptBoth).toHaveLength(1);
    expect(target.rows.size).toBe(2);
  });

  it('two VEVENTs with one UID and no RECURRENCE-ID in one file stay together, both exported', () => {
    const file = corpus('ical', 'icalendar--docs-example.ics');
    const read = readCalendarFile(file);
    expect(read.items).toHaveLength(1);
    expect(read.merged[0]!.lines).toEqual([5, 12]);
    expect(formatCalendar(read.items.map((i) => i.text))).toBe(file.toString('utf8'));
  });
});

describe('iCalendar (RFC 5545) import/export', () => {
  it('keeps an event and its moved occurrence together, each item with its time zone', () => {
    const items = parseCalendar(ics);
    expect(items.map((i) => i.id)).toEqual([
      'weekly-standup@example.com',
      'xmas@example.com',
      'todo-1@example.com',
    ]);
    expect(items[0]!.text).toContain('BEGIN:VTIMEZONE');
    expect(items[0]!.text.match(/BEGIN:VEVENT/g)).toHaveLength(2);
    expect(items[1]!.text).not.toContain('VTIMEZONE');
  });

  it('round-trips: the export is the file, and importing it again gives the same items', () => {
    const items = parseCalendar(ics);
    expect(formatCalendar(items.map((i) => i.text))).toBe(ics);
    const again = parseCalendar(formatCalendar(items.map((i) => i.text)));
    expect(again.map((i) => [i.id, i.text])).toEqual(items.map((i) => [i.id, i.text]));
  });

  it('refuses what is not a calendar', () => {
    expect(() => parseCalendar(vcf)).toThrow(CardFileError);
    expect(() => parseCalendar('garbage')).toThrow(CardFileError);
  });
});

describe('issue 15 item 1: calendar values are kept as written', () => {
  it('DTSTART without VALUE=DATE, a DTEND with a leading space and RDATE;VALUE=TIME come back unchanged', () => {
    const file = calendar(
      'BEGIN:VEVENT',
      'UID:odd-values@example.com',
      'DTSTAMP:20240701T000000Z',
      'DTSTART:20240704',
      'DTEND: 20240812T223000Z',
      'RDATE;VALUE=TIME:083000',
      'END:VEVENT',
    );
    const items = parseCalendar(file);
    expect(items[0]!.text).toContain('DTSTART:20240704\r\n');
    expect(formatCalendar(items.map((i) => i.text))).toBe(file);
  });
});

describe('issue 15 item 2: calendar-level and unknown content, time zones, several VCALENDARs, BOM', () => {
  it('keeps X-WR-CALNAME, X-WR-TIMEZONE, METHOD, CALSCALE and VALUE=URI on X-APPLE-STRUCTURED-LOCATION', () => {
    const file = corpus('ical', 'icalendar--x_location.ics').toString('utf8');
    const out = formatCalendar(parseCalendar(file).map((i) => i.text));
    for (const line of [
      'X-WR-CALNAME:ITC',
      'X-WR-TIMEZONE:Europe/Zurich',
      'METHOD:PUBLISH',
      'CALSCALE:GREGORIAN',
    ]) {
      expect(out).toContain(`${line}\n`);
    }
    expect(out).toMatch(/X-APPLE-STRUCTURED-LOCATION;VALUE=URI;/);
    expect(out).toBe(file);
  });

  it('keeps RFC 7986 NAME, COLOR, IMAGE of a calendar, VAVAILABILITY and X- components', () => {
    const props = formatCalendar(
      parseCalendar(corpus('ical', 'icalendar--rfc_7986_properties.ics').toString()).map((i) => i.text),
    );
    expect(props).toContain('NAME:RFC 7986 calendar');
    expect(props).toContain('COLOR:black');
    const image = formatCalendar(
      parseCalendar(corpus('ical', 'icalendar--rfc_7986_image.ics').toString()).map((i) => i.text),
    );
    expect(image).toMatch(/^IMAGE;/m);
    const all = formatCalendar(
      parseCalendar(corpus('ical', 'icalendar--issue_1050_all_components.ics').toString()).map((i) => i.text),
    );
    expect(all).toContain('BEGIN:VAVAILABILITY');
    const x = formatCalendar(
      parseCalendar(corpus('ical', 'icaljs--recur_instances.ics').toString()).map((i) => i.text),
    );
    expect(x).toContain('BEGIN:X-UNKNOWN');
  });

  it("one VTIMEZONE per TZID is not replaced by another file's: each item keeps its own rules", () => {
    const zone = (rules: string[]) => ['BEGIN:VTIMEZONE', 'TZID:Europe/London', ...rules, 'END:VTIMEZONE'];
    const full = zone([
      'BEGIN:STANDARD',
      'DTSTART:19701025T020000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0000',
      'END:STANDARD',
      'BEGIN:DAYLIGHT',
      'DTSTART:19700329T010000',
      'TZOFFSETFROM:+0000',
      'TZOFFSETTO:+0100',
      'END:DAYLIGHT',
    ]);
    const short = zone([
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0000',
      'TZOFFSETTO:+0000',
      'END:STANDARD',
    ]);
    const event = (uid: string) => [
      'BEGIN:VEVENT',
      `UID:${uid}`,
      'DTSTAMP:20240101T000000Z',
      'DTSTART;TZID=Europe/London:20240601T100000',
      'END:VEVENT',
    ];
    const a = parseCalendar(calendar(...short, ...event('a')));
    const b = parseCalendar(calendar(...full, ...event('b')));
    const out = exportCalendar([...a, ...b].map((i) => i.text));
    expect(out.text.match(/BEGIN:VCALENDAR/g)).toHaveLength(2);
    const again = parseCalendar(out.text);
    expect(again.find((i) => i.id === 'b')!.text).toContain('BEGIN:DAYLIGHT');
    expect(again.find((i) => i.id === 'a')!.text).not.toContain('BEGIN:DAYLIGHT');
  });

  it('reads a file with two VCALENDARs, and one with a BOM, without an internal error', () => {
    const two = readCalendarFile(corpus('ical', 'icalendar--issue_1050_multiple_calendars.ics'));
    expect(two.items).toHaveLength(2);
    const bom = new TextEncoder().encode(
      `\uFEFF${calendar('BEGIN:VEVENT', 'UID:x', 'DTSTAMP:20240101T000000Z', 'END:VEVENT')}`,
    );
    expect(readCalendarFile(bom).items.map((i) => i.id)).toEqual(['x']);
  });

  it('export leaves out a pim record that is no calendar, and says so', () => {
    const out = exportCalendar(['a note, not a calendar', ...parseCalendar(ics).map((i) => i.text)]);
    expect(out.skipped).toEqual([0]);
    expect(out.text).toBe(ics);
  });
});
