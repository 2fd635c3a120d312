import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseLineEnds } from '../cli/content-lines.js';
import {
  exportCalendarFile,
  exportContacts,
  type ImportReport,
  importCalendar,
  importContacts,
} from '../cli/import-report.js';
import { decodeText } from '../cli/text-decoding.js';
import { closeScene, type Member, member, type Scene, scene, syncWithSim } from './e2e/scene.js';

/**
 * Issue 15: real files from other projects' test suites (SOURCES.md), each
 * imported on terminal A, synced through the server to terminal B, exported
 * there, and read again by an independent parser (Python vobject and
 * icalendar, test/real-world-parse.py) that must find every item and every
 * property of the original. What may differ is in the table below, each
 * with its reason; anything else is silent loss and fails.
 */
const CORPUS = 'test/fixtures/real-world';
const PYTHON = '/usr/bin/python3';

/** Items our import reports as rejected (never silently): the file's own fault. */
const REJECTED: Record<string, { count: number; reason: string }> = {
  'folkerkinzel--Cropped_2_1.vcf': {
    count: 1,
    reason: 'the file is cut off inside its only card (no END:VCARD)',
  },
  'khard--unparsable.vcf': { count: 1, reason: 'khard\'s "unparsable" card: no END:VCARD' },
  'icalendar--issue_348_exception_parsing_value.ics': {
    count: 1,
    reason: 'a VFREEBUSY with a line that is no content line (a parameter folded without its value)',
  },
  'radicale--broken-vevent.ics': { count: 1, reason: 'Radicale\'s "END of VEVENT missing by accident"' },
};

/** Items the export has that the independent parser does not find in the original. */
const ADDED: Record<string, { count: number; reason: string }> = {
  'icalendar--small_bad_calendar.ics': {
    count: 1,
    reason:
      'no END:VCALENDAR: python-icalendar drops the complete VEVENT inside, we keep it and close the calendar',
  },
};

/**
 * Originals the independent parser (Debian's python3-vobject 0.9.6,
 * python3-icalendar 4.0.3) cannot read at all. For these the export is
 * compared with the original's own text instead: every exported item must be
 * the original's text, after the normalisation import does (charset to
 * UTF-8, CR CR LF and lone CR to CRLF, no BOM), and every item read is there.
 */
const SECOND_PARSER_REFUSES: Record<string, string> = {
  'ezvcard--John_Doe_ANDROID.vcf': 'vobject: a base64 PHOTO without padding',
  'ezvcard--John_Doe_LOTUS_NOTES.vcf': 'vobject: an AGENT card inside the card',
  'folkerkinzel--AnsiIssue.vcf': 'vobject: "ADR;HOME;PREF;:" (an empty parameter)',
  'folkerkinzel--AnsiIssueNoEncoding.vcf': 'vobject: "ADR;HOME;PREF;:" (an empty parameter)',
  'folkerkinzel--Cropped_2_1.vcf': 'the file is cut off inside a UTF-8 sequence',
  'folkerkinzel--Library-v2.vcf': 'vobject: vCard 2.1 base64 lines that are not indented',
  'folkerkinzel--ansi-Murks.vcf': 'vobject: CHARSET=Murks is no charset',
  'khard--unparsable.vcf': 'no END:VCARD',
  'radicale--contact_photo_with_data_uri.vcf': 'vobject: a data: URI PHOTO read as base64',
  'icalendar--america_new_york.ics': 'icalendar 4.0.3: RRULE UNTIL not in UTC',
  'pyvobject--ms_tzid.ics': 'icalendar 4.0.3: RRULE UNTIL not in UTC',
  'icalendar--issue_1081_freebusy_comma_separated.ics':
    'icalendar 4.0.3: FREEBUSY periods separated by commas',
  'icalendar--issue_1633_rdate_with_dates.ics': 'icalendar 4.0.3: RDATE;VALUE=DATE',
  'icalendar--issue_348_exception_parsing_value.ics': 'icalendar 4.0.3: a broken ORGANIZER line',
  'icalendar--rfc_7529.ics': 'icalendar 4.0.3: no RFC 7529 RSCALE',
};

interface Parsed {
  ok: boolean;
  error?: string;
  items?: string[];
  calprops?: string[];
}

function secondParser(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import icalendar, vobject'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `the corpus test needs Python vobject and icalendar as the independent parser: ` +
        `apt-get install python3-vobject python3-icalendar (scripts/install-system-deps.sh does it). ` +
        `${probe.error?.message ?? probe.stderr}`,
    );
  }
}

function readIndependently(entries: { path: string; kind: string }[]): Record<string, Parsed> {
  const out = execFileSync(PYTHON, ['test/real-world-parse.py'], {
    input: JSON.stringify(entries),
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out.toString());
}

const files = (kind: 'vcard' | 'ical') => readdirSync(path.join(CORPUS, kind)).sort();

/** The source text the import keeps, for the byte-for-byte check. */
const normalised = (file: string) =>
  normaliseLineEnds(decodeText(readFileSync(file)).text.replace(/^\uFEFF/, ''));

function splitItems(text: string, kind: 'vcard' | 'ical'): string[] {
  const re =
    kind === 'vcard'
      ? /^BEGIN:VCARD\r?\n[\s\S]*?^END:VCARD\r?\n/gim
      : /^BEGIN:(?!VCALENDAR)(\S+)\r?\n[\s\S]*?^END:\1\r?\n/gim;
  return text.match(re) ?? [];
}

let s: Scene;
let a: Member;
let b: Member;
let dir: string;
const reports = new Map<string, ImportReport>();
const exported = new Map<string, number>();

beforeAll(async () => {
  secondParser();
  dir = mkdtempSync(path.join(tmpdir(), 'simsync-corpus-'));
  s = await scene();
  a = await member(s, 'a');
  b = await member(s, 'b');
  a.reader.insert(s.sim);
  for (const kind of ['vcard', 'ical'] as const) {
    for (const name of files(kind)) {
      const file = path.join(CORPUS, kind, name);
      const report = await (kind === 'vcard' ? importContacts : importCalendar)(a.terminal, file, {
        source: name,
      });
      reports.set(name, report);
    }
  }
  await a.terminal.sync();
  a.reader.remove();
  await syncWithSim(s, b);
  for (const kind of ['vcard', 'ical'] as const) {
    for (const name of files(kind)) {
      const out = path.join(dir, name);
      const report = await (kind === 'vcard' ? exportContacts : exportCalendarFile)(b.terminal, out, {
        source: name,
      });
      exported.set(name, report.exported);
    }
  }
}, 180_000);

afterAll(async () => {
  if (s) await closeScene(s);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('issue 15: real-world vCard and iCalendar files, terminal A → server → terminal B', () => {
  it('the corpus is what SOURCES.md lists (about 40 of each kind)', () => {
    const sources = readFileSync(path.join(CORPUS, 'SOURCES.md'), 'utf8');
    for (const kind of ['vcard', 'ical'] as const) {
      expect(files(kind).length).toBeGreaterThanOrEqual(40);
      for (const name of files(kind)) expect(sources, `${name} in SOURCES.md`).toContain(`\`${name}\``);
    }
  });

  it('B exports as many items as A imported, file by file (cards and events arrive on B)', () => {
    let total = 0;
    for (const [name, r] of reports) {
      expect(exported.get(name), name).toBe(r.imported);
      total += r.imported;
    }
    expect(total).toBeGreaterThan(1100);
  });

  for (const kind of ['vcard', 'ical'] as const) {
    it(`${kind}: every file imports; only the items listed as the file's own fault are rejected, each with a line`, () => {
      for (const name of files(kind)) {
        const r = reports.get(name)!;
        expect(r.rejected.length, `${name}: ${JSON.stringify(r.rejected)}`).toBe(REJECTED[name]?.count ?? 0);
        for (const x of r.rejected) expect(x.line).toBeGreaterThan(0);
        if (!REJECTED[name]) expect(r.failed, name).toBe(false);
      }
    });

    it(`${kind}: the independent parser finds every item and property of the original in B's export`, () => {
      const names = files(kind);
      const parsed = readIndependently(
        names.flatMap((n) => [
          { path: path.join(CORPUS, kind, n), kind },
          { path: path.join(dir, n), kind },
        ]),
      );
      const problems: string[] = [];
      for (const name of names) {
        const original = parsed[path.join(CORPUS, kind, name)]!;
        const copy = parsed[path.join(dir, name)]!;
        if (!original.ok) {
          if (!SECOND_PARSER_REFUSES[name])
            problems.push(`${name}: the independent parser refuses the original: ${original.error}`);
          const source = normalised(path.join(CORPUS, kind, name));
          const items = splitItems(readFileSync(path.join(dir, name), 'utf8'), kind);
          for (const item of items)
            if (!source.includes(item))
              problems.push(`${name}: exported item not in the original:\n${item.slice(0, 200)}`);
          const read = reports.get(name)!;
          if (exported.get(name) !== read.imported)
            problems.push(`${name}: ${read.imported} imported, ${exported.get(name)} exported`);
          continue;
        }
        if (SECOND_PARSER_REFUSES[name])
          problems.push(`${name}: listed as refused, but the independent parser reads it now`);
        if (!copy.ok) {
          problems.push(`${name}: the independent parser refuses B's export: ${copy.error}`);
          continue;
        }
        const missing = original.items!.filter((i) => !copy.items!.includes(i));
        const added = copy.items!.filter((i) => !original.items!.includes(i));
        const lostProps = original.calprops!.filter((p) => !copy.calprops!.includes(p));
        const allowedMissing = REJECTED[name]?.count ?? 0;
        if (missing.length > allowedMissing)
          problems.push(`${name}: lost ${missing.length}: ${missing.join('\n').slice(0, 400)}`);
        if (added.length !== (ADDED[name]?.count ?? 0))
          problems.push(`${name}: ${added.length} item(s) not in the original`);
        if (lostProps.length > 0) problems.push(`${name}: calendar properties lost: ${lostProps.join(', ')}`);
      }
      expect(problems).toEqual([]);
    });
  }
});
