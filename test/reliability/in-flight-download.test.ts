import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../core/index.js';
import { HistoryWorld } from './history-world.js';
import { makeTemplate, type Template } from './template.js';

let template: Template;
beforeAll(async () => {
  template = await makeTemplate();
});
afterAll(() => template.remove());

const plan = { withoutSim: 'editable' as const, pageBytes: 200, batchBytes: 261, lazy: false };

describe('DESIGN.md "Sync model": a batch left in flight and a newer version from elsewhere (found by the convergence model, issue 21)', () => {
  it('at whatever NV commit power fails during the upload, the terminal ends with the newer version', async () => {
    const wrong: string[] = [];
    let fired = true;
    for (let cut = 1; fired; cut++) {
      const world = await HistoryWorld.open(template, [plan, plan], `in-flight-${cut}`);
      try {
        const [a, b] = world.nodes;
        if (a === undefined || b === undefined) throw new Error('no terminals');
        world.moveSim(a);
        await world.sync(a, 'user');
        await a.terminal.edit('mail', 'r3', utf8('from a'));
        // Power fails at one commit of the upload: maybe after the server applied the batch.
        a.nv.cutPowerAtCommit(cut);
        await world.sync(a, 'battery-low', { download: false }).catch(() => undefined);
        fired = !a.nv.isOn();
        a.nv.cutPowerAtCommit(Number.MAX_SAFE_INTEGER);
        if (fired) await world.reboot(a);
        await world.clock.advance(1000);
        // Another terminal brings down what the server has, edits it later, and uploads.
        world.moveSim(b);
        await world.sync(b, 'mount');
        await b.terminal.edit('mail', 'r3', utf8('from b'));
        await world.sync(b, 'user');
        world.moveSim(a);
        await world.sync(a, 'mount');
        await world.sync(a, 'user');
        const held = await a.terminal.records.get('mail', 'r3');
        const body = held?.body ? fromUtf8(held.body) : String(held?.body);
        if (body !== 'from b') wrong.push(`cut at commit ${cut}: a holds ${body}`);
      } finally {
        await world.close();
      }
    }
    expect(wrong).toEqual([]);
  });
});
