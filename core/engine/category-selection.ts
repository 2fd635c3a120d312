import { expectReply } from '../net/expect-reply.js';
import { type Category, type Filters, loosened, normaliseSelection } from '../protocol/index.js';
import type { CardSession } from './card-session.js';
import type { TerminalParts } from './terminal-parts.js';

/**
 * FIG. 15 / FIG. 7b: the user's choice of sync-target categories (rights
 * follows application, [0033]) and finer criteria, stored on the server
 * and here. Categories added, or filters loosened, bring their existing
 * server data down at the next sync; a removed category stops syncing and
 * its server data stays.
 */
export async function selectCategories(
  parts: TerminalParts,
  cards: CardSession,
  categories: Category[],
  filters?: Filters,
): Promise<Category[]> {
  const { registration, subscriber } = await cards.authenticated();
  const selected = normaliseSelection(categories);
  const granted = await parts.mutex.run(async () => {
    const session = await cards.connect(registration);
    try {
      const reply = await session.request({
        type: 'set-categories',
        subscriber,
        categories: selected,
        ...(filters ? { filters } : {}),
      });
      return expectReply(reply, 'ok').categories ?? selected;
    } catch (e) {
      await cards.noteStanding(e);
      throw e;
    }
  });
  const added = granted.filter((c) => !registration.categories.includes(c));
  const widened = loosened(registration.filters, filters).filter((c) => granted.includes(c));
  // The catch-up is recorded first: a power cut before the registration is
  // updated leaves a harmless extra download, never a missing one.
  await parts.records.addCatchUp([...new Set([...added, ...widened])]);
  const { filters: _old, ...rest } = registration;
  await parts.config.setRegistration({ ...rest, categories: granted, ...(filters ? { filters } : {}) });
  return granted;
}
