/**
 * The data categories of FIG. 6 (D1–D8 of FIG. 7b). The wire carries the
 * index, so the order here is part of protocol version 1 and never changes.
 */
export const CATEGORIES = [
  'contacts', // D1 phone address book data
  'mail', // D2 mail data
  'browser', // D3 browser data (bookmarks, last page)
  'archive', // D4 archive data (photo, sound, image)
  'application', // D5 application data
  'pim', // D6 PIM data (calendar, schedule, to-do)
  'settings', // D7 set-up data
  'rights', // D8 rights data; follows application ([0033])
] as const;

export type Category = (typeof CATEGORIES)[number];

export function isCategory(value: unknown): value is Category {
  return typeof value === 'string' && (CATEGORIES as readonly string[]).includes(value);
}

export function categoryCode(category: Category): number {
  return CATEGORIES.indexOf(category);
}

export function categoryFromCode(code: number): Category | undefined {
  return CATEGORIES[code];
}

/**
 * [0033]: rights data is not selectable on its own; it follows application
 * data. Normalises a user's selection so that holds, in FIG. 6 order.
 */
export function normaliseSelection(selected: Iterable<Category>): Category[] {
  const set = new Set(selected);
  set.delete('rights');
  if (set.has('application')) set.add('rights');
  return CATEGORIES.filter((c) => set.has(c));
}
