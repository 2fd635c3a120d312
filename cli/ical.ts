import ICAL from 'ical.js';
import { CardFileError, recordIdFor } from './vcard.js';

/** One calendar item (all components sharing a UID: the event and its recurrence exceptions). */
export interface CalendarItem {
  id: string;
  summary: string;
  /** A complete VCALENDAR holding the item and the time zones it refers to. */
  text: string;
}

const ITEM_KINDS = ['vevent', 'vtodo', 'vjournal'];
const PRODID = '-//simsync//calendar//EN';

function calendar(): ICAL.Component {
  const cal = new ICAL.Component('vcalendar');
  cal.addPropertyWithValue('prodid', PRODID);
  cal.addPropertyWithValue('version', '2.0');
  return cal;
}

function tzidsOf(component: ICAL.Component): Set<string> {
  const out = new Set<string>();
  for (const prop of component.getAllProperties()) {
    const tzid = prop.getParameter('tzid');
    if (typeof tzid === 'string') out.add(tzid);
  }
  return out;
}

/** Splits an iCalendar file (RFC 5545) into one record per UID, each self-contained with its VTIMEZONEs. */
export function parseCalendar(file: string): CalendarItem[] {
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(file) as never);
  } catch (e) {
    throw new CardFileError(`not an iCalendar file: ${(e as Error).message}`);
  }
  if (root.name !== 'vcalendar') throw new CardFileError('not an iCalendar file (no VCALENDAR)');
  const zones = new Map(
    root.getAllSubcomponents('vtimezone').map((z) => [String(z.getFirstPropertyValue('tzid')), z] as const),
  );
  const byUid = new Map<string, ICAL.Component[]>();
  for (const component of root.getAllSubcomponents()) {
    if (!ITEM_KINDS.includes(component.name)) continue;
    const uid = component.getFirstPropertyValue('uid');
    const key = typeof uid === 'string' ? uid : component.toString();
    byUid.set(key, [...(byUid.get(key) ?? []), component]);
  }
  return [...byUid.entries()].map(([uid, components]) => {
    const cal = calendar();
    const tzids = new Set(components.flatMap((c) => [...tzidsOf(c)]));
    for (const tzid of tzids) {
      const zone = zones.get(tzid);
      if (zone) cal.addSubcomponent(new ICAL.Component(zone.toJSON()));
    }
    for (const c of components) cal.addSubcomponent(new ICAL.Component(c.toJSON()));
    const text = `${cal.toString()}\r\n`;
    const summary = String(components[0]!.getFirstPropertyValue('summary') ?? '(no summary)');
    return {
      id: recordIdFor(components.length > 0 && !uid.startsWith('BEGIN:') ? uid : undefined, text),
      summary,
      text,
    };
  });
}

/** Items back into one VCALENDAR, each time zone once. */
export function formatCalendar(items: readonly string[]): string {
  const cal = calendar();
  const seenZones = new Set<string>();
  for (const text of items) {
    const item = new ICAL.Component(ICAL.parse(text) as never);
    for (const zone of [...item.getAllSubcomponents('vtimezone')]) {
      const tzid = String(zone.getFirstPropertyValue('tzid'));
      if (seenZones.has(tzid)) continue;
      seenZones.add(tzid);
      cal.addSubcomponent(zone);
    }
    // Copy the list: adding a component to `cal` removes it from `item`.
    for (const c of [...item.getAllSubcomponents()]) if (ITEM_KINDS.includes(c.name)) cal.addSubcomponent(c);
  }
  return `${cal.toString()}\r\n`;
}
