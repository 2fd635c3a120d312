import { describe, expect, it } from 'vitest';
import { KeyringAgent } from '../../cli/sim-world.js';
import { Terminal, utf8 } from '../../core/index.js';
import { SimNvStore } from '../../hal-sim/index.js';
import { registerWithSim, subscriberWorld } from './scene.js';
import { IMSI, TERMINAL_PASSWORD, terminalData, userArea } from './world.js';

const KEYRING = { pin: '1234', terminalPassword: TERMINAL_PASSWORD };
const body = (tag: string) => utf8(tag.padEnd(900, '.'));

/**
 * A world where terminal A holds 6 unsynced contacts (3 upload batches) and
 * the server holds 6 records from terminal B (6 download pages), so A's
 * next sync makes a dozen NV commits.
 */
async function scene() {
  const { world, sim } = await subscriberWorld({ transport: 'memory' });
  const options = { pageBytes: 1024, batchBytes: 2048 };
  const b = await world.addTerminal('b', new KeyringAgent(KEYRING), options);
  const nv = new SimNvStore();
  const a = await world.addTerminal('a', new KeyringAgent(KEYRING), { ...options, nv });
  for (const t of [a, b]) await registerWithSim(world, t, sim);
  b.reader.insert(sim);
  for (let i = 0; i < 6; i++) await b.terminal.edit('mail', `b${i}`, body(`b${i}`));
  await b.terminal.sync();
  b.reader.remove();
  a.reader.insert(sim);
  for (let i = 0; i < 6; i++) await a.terminal.edit('contacts', `a${i}`, body(`a${i}`));
  return { world, sim, a, nv, options };
}

describe('power cut at every NV commit during a sync (DESIGN.md "NvStore")', () => {
  it('after restart and a new sync nothing is lost and nothing is applied twice', async () => {
    // Count the commits of an uninterrupted sync first.
    const probe = await scene();
    const before = probe.nv.stats().commits;
    await probe.a.terminal.sync();
    const commits = probe.nv.stats().commits - before;
    const expected = await userArea(probe.world);
    await probe.world.close();
    expect(commits).toBeGreaterThanOrEqual(9);
    expect(Object.keys(expected)).toHaveLength(12);

    for (let cut = 1; cut <= commits; cut++) {
      const { world, sim, a, nv, options } = await scene();
      try {
        nv.cutPowerAtCommit(cut);
        await expect(a.terminal.sync(), `cut at commit ${cut}`).rejects.toBeTruthy();
        nv.powerOn();
        // Reboot: the card loses power with the terminal; a fresh engine runs over the same flash.
        a.reader.remove();
        a.reader.insert(sim);
        const rebooted = await Terminal.create(
          { reader: a.reader, nv, link: world.link(), clock: world.clock, agent: new KeyringAgent(KEYRING) },
          { timeoutMs: 5000, ...options },
        );
        const report = await rebooted.sync();
        expect(report.setAside, `cut at commit ${cut}`).toEqual([]);
        expect(await userArea(world), `cut at commit ${cut}`).toEqual(expected);
        expect(await terminalData({ ...a, terminal: rebooted }), `cut at commit ${cut}`).toEqual(expected);
        expect(await rebooted.records.dirtyCount()).toBe(0);
        // Each of A's records entered the change log exactly once.
        const log = await world.server.store.changeLog(IMSI);
        const fromA = log.filter((e) => e.origin === a.terminal.terminalId).map((e) => e.recordId);
        expect(fromA.sort(), `cut at commit ${cut}`).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
        await rebooted.stop();
        expect(sim.snapshot().pinRetriesLeft).toBe(3);
      } finally {
        await world.close();
      }
    }
  }, 120_000);
});
