import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../core/index.js';
import { HistoryWorld } from './history-world.js';
import { IMSI, makeTemplate, type Template } from './template.js';

let template: Template;
beforeAll(async () => {
  template = await makeTemplate();
});
afterAll(() => template.remove());

const plans = [{ withoutSim: 'read-only' as const, pageBytes: 400, batchBytes: 400, lazy: false }];

describe('[0060]: a deletion of a new record whose upload was cut (found by the convergence model, issue 21)', () => {
  it('whatever byte the link drops at, the deletion reaches the server and the terminal converges', async () => {
    // A sync that uploads one new record moves this many bytes.
    const probe = await HistoryWorld.open(template, plans, 'probe');
    const [first] = probe.nodes;
    if (first === undefined) throw new Error('no terminal');
    probe.moveSim(first);
    await first.terminal.edit('mail', 'r3', utf8('created'));
    const before = probe.traffic;
    await probe.sync(first, 'user');
    const total = probe.traffic - before;
    await probe.close();

    const wrong: string[] = [];
    for (let at = 0; at <= total; at += 4) {
      const world = await HistoryWorld.open(template, plans, `cut-${at}`);
      try {
        const [node] = world.nodes;
        if (node === undefined) throw new Error('no terminal');
        world.moveSim(node);
        await node.terminal.edit('mail', 'r3', utf8('created'));
        node.link.dropAfterBytes(at);
        await world.sync(node, 'user').catch(() => undefined);
        await node.terminal.delete('mail', 'r3');
        await world.sync(node, 'user');
        const live = (
          await world.server.store.recordsAfter({
            subscriber: IMSI,
            after: 0,
            upTo: Number.MAX_SAFE_INTEGER,
            categories: ['mail'],
            limit: 10,
          })
        ).filter((r) => r.body !== null);
        const dirty = await node.terminal.records.dirtyCount();
        if (live.length > 0 || dirty > 0)
          wrong.push(`drop at ${at}: server holds ${live.length}, ${dirty} dirty`);
      } finally {
        await world.close();
      }
    }
    expect(wrong).toEqual([]);
  });
});
