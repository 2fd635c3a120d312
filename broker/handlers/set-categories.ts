import { normaliseSelection, type SetCategoriesRequest } from '../../core/protocol/index.js';
import { type Handled, type SyncCall, tally } from './handled.js';

/** FIG. 15 / FIG. 7b: the terminal's categories (and [0033] filters) in the subscriber database. */
export async function handleSetCategories(
  { deps, session, who }: SyncCall,
  request: SetCategoriesRequest,
): Promise<Handled> {
  const categories = normaliseSelection(request.categories);
  await deps.store.transaction(async (tx) => {
    const t = await tx.getTerminal(session.terminalId);
    if (!t) return;
    const { filters: _old, ...rest } = t;
    await tx.putTerminal({ ...rest, categories, ...(request.filters ? { filters: request.filters } : {}) });
  });
  const filters = request.filters ? { filters: request.filters } : {};
  return { reply: { type: 'ok', req: request.req, categories, ...filters }, audit: tally(who) };
}
