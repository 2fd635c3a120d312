import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCalendar, parseCalendar } from './ical.js';
import { CardFileError, formatVcards, parseVcards } from './vcard.js';

const vcf = readFileSync('cli/fixtures/contacts.vcf', 'utf8');
const ics = readFileSync('cli/fixtures/calendar.ics', 'utf8');

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

  it('refuses a file with no card, or a broken card, with a typed error', () => {
    expect(() => parseVcards('hello')).toThrow(CardFileError);
    expect(() => parseVcards('BEGIN:VCARD\r\nVERSION:4.0\r\nTEL:1\r\nEND:VCARD\r\n')).toThrow(/no FN/);
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

  it('round-trips: exporting and importing again gives the same items', () => {
    const items = parseCalendar(ics);
    const again = parseCalendar(formatCalendar(items.map((i) => i.text)));
    expect(again).toEqual(items);
    expect(formatCalendar(items.map((i) => i.text)).match(/BEGIN:VTIMEZONE/g)).toHaveLength(1);
  });

  it('refuses what is not a calendar', () => {
    expect(() => parseCalendar(vcf)).toThrow(CardFileError);
    expect(() => parseCalendar('garbage')).toThrow(CardFileError);
  });
});
