import { z } from 'zod';
import { CATEGORIES, type Category } from './categories.js';

const CategoryName = z.enum(CATEGORIES);

/**
 * [0033] finer selection criteria on top of the categories of FIG. 7b: by
 * the folder a record is filed in (a mail send box or receive box) and by
 * how recent it is (data of the last few months). Both are per category and
 * applied by the server when it selects what a terminal downloads; records
 * they leave out stay on the server, untouched.
 */
export const Folder = z.string().min(1).max(64);

export const Filters = z.strictObject({
  /** Per category, the folders synced; a record filed elsewhere is not sent. Unfiled records always are. */
  folders: z.partialRecord(CategoryName, z.array(Folder).min(1).max(64)).optional(),
  /** Per category, only records dated within this many days are sent (the date, else the edit time). */
  recentDays: z.partialRecord(CategoryName, z.number().int().min(1).max(36_500)).optional(),
});
export type Filters = z.infer<typeof Filters>;

/** What a record says about itself beyond its body, for the filters above (and a title for stubs). */
export interface RecordMeta {
  folder?: string | undefined;
  /** When the item itself was made (a mail's date, a photo's time), ms since the epoch. */
  date?: number | undefined;
  title?: string | undefined;
}

const DAY_MS = 86_400_000;

/** Does a record of `category` pass the terminal's filters at time `now`? */
export function passesFilters(
  filters: Filters | undefined,
  category: Category,
  meta: RecordMeta | undefined,
  editedAt: number,
  now: number,
): boolean {
  if (filters === undefined) return true;
  const folders = filters.folders?.[category];
  if (folders !== undefined && meta?.folder !== undefined && !folders.includes(meta.folder)) return false;
  const days = filters.recentDays?.[category];
  if (days !== undefined && (meta?.date ?? editedAt) < now - days * DAY_MS) return false;
  return true;
}

/** Categories whose filter `after` lets through something `before` did not: they need a catch-up. */
export function loosened(before: Filters | undefined, after: Filters | undefined): Category[] {
  const out = new Set<Category>();
  for (const [category, list] of Object.entries(before?.folders ?? {}) as [Category, string[]][]) {
    const now = after?.folders?.[category];
    if (now === undefined || now.some((f) => !list.includes(f))) out.add(category);
  }
  for (const [category, days] of Object.entries(before?.recentDays ?? {}) as [Category, number][]) {
    const now = after?.recentDays?.[category];
    if (now === undefined || now > days) out.add(category);
  }
  return [...out];
}
