import { describe, expectTypeOf, it } from 'vitest';
import type { Terminal } from './terminal.js';

/**
 * Issue 17 item 2: Terminal.records is read-only, so nothing (a test, a
 * bench, the agent) edits around the checks of local-access.ts. Checked by
 * the type checker that `npm test` runs over this file.
 */
describe('Terminal.records', () => {
  it('reads the store and has no write path', () => {
    type Records = Terminal['records'];
    expectTypeOf<Records>().toHaveProperty('get');
    expectTypeOf<Records>().toHaveProperty('list');
    expectTypeOf<Records>().toHaveProperty('dirtyCount');
    expectTypeOf<Records>().not.toHaveProperty('put');
    expectTypeOf<Records>().not.toHaveProperty('remove');
    expectTypeOf<Records>().not.toHaveProperty('erase');
    expectTypeOf<Records>().not.toHaveProperty('applyDownload');
  });
});
