import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncError, utf8 } from '../../core/index.js';
import { HalError } from '../../hal/index.js';
import { HistoryWorld } from './history-world.js';
import { makeTemplate, type Template } from './template.js';

let template: Template;
beforeAll(async () => {
  template = await makeTemplate();
});
afterAll(() => template.remove());

const plans = [{ withoutSim: 'read-only' as const, pageBytes: 400, batchBytes: 400, lazy: false }];

describe('STYLE.md §2: a sync cut anywhere fails with a typed error (found by the model, issue 21)', () => {
  it('a link drop at any byte of a sync, the subscription included, rejects SyncError or HalError', async () => {
    const world = await HistoryWorld.open(template, plans, 'typed-errors');
    try {
      const [node] = world.nodes;
      if (node === undefined) throw new Error('no terminal');
      world.moveSim(node);
      // How many bytes a sync with two uploads moves, on a fresh connection each time.
      const before = world.traffic;
      await node.terminal.edit('contacts', 'r0', utf8('x'.repeat(300)));
      await node.terminal.edit('mail', 'r1', utf8('y'.repeat(300)));
      await world.sync(node, 'user');
      const total = world.traffic - before;
      expect(total).toBeGreaterThan(500);
      const untyped: string[] = [];
      for (let at = 0; at < total; at += 5) {
        await node.terminal.edit('contacts', 'r0', utf8(`v${at}`.padEnd(300, '.')));
        node.reader.remove();
        node.reader.insert(world.sim);
        await node.terminal.stop();
        node.link.dropAfterBytes(at);
        await world.reboot(node);
        const error = await world.sync(node, 'user').then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error !== undefined && !(error instanceof SyncError) && !(error instanceof HalError)) {
          untyped.push(`at ${at}: ${String(error)}`);
        }
      }
      expect(untyped).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
