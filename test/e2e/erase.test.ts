import { afterEach, describe, expect, it } from 'vitest';
import { type SyncServer, startSyncServer } from '../../broker/index.js';
import { KeyringAgent, memoryLink } from '../../cli/sim-world.js';
import { CATEGORIES, SyncError, Terminal, utf8 } from '../../core/index.js';
import { SimNvStore } from '../../hal-sim/index.js';
import { closeScene, KEYRING, member, type Scene, scene } from './scene.js';
import { IMSI, LOGIN, TERMINAL_PASSWORD, terminalData, userArea } from './world.js';

let s: Scene | undefined;
let small: SyncServer | undefined;
afterEach(async () => {
  await small?.close();
  small = undefined;
  if (s) await closeScene(s);
  s = undefined;
});

const body = (tag: string) => utf8(tag.padEnd(900, '.'));

describe('FIG. 20: collective erase', () => {
  it('S81–S86 per category: uploads what is unsynced, then erases only the chosen data', async () => {
    s = await scene();
    const a = await member(s, 'a');
    a.reader.insert(s.sim);
    await a.terminal.edit('contacts', 'c1', utf8('Carol'));
    await a.terminal.edit('mail', 'm1', utf8('hi'));
    const report = await a.terminal.erase({ categories: ['contacts'] });
    expect(report).toMatchObject({ categories: ['contacts'], erased: 1, factory: false });
    expect(await terminalData(a)).toEqual({ 'mail/m1': 'hi' });
    expect(await userArea(s.world)).toEqual({ 'contacts/c1': 'Carol', 'mail/m1': 'hi' });
    expect(await a.terminal.registration()).toBeDefined();
  });

  it('restore brings an erased category back from the server, its own uploads too; a category not synced here is refused', async () => {
    s = await scene();
    const a = await member(s, 'a');
    const b = await member(s, 'b');
    a.reader.insert(s.sim);
    await a.terminal.edit('contacts', 'c1', utf8('Carol'));
    await a.terminal.edit('mail', 'm1', utf8('hi'));
    await a.terminal.sync();
    await a.terminal.erase({ categories: ['contacts'] });
    a.reader.remove();
    // Meanwhile another terminal adds a contact: a plain sync brings only that one down.
    b.reader.insert(s.sim);
    await b.terminal.edit('contacts', 'c2', utf8('Dave'));
    await b.terminal.sync();
    b.reader.remove();
    a.reader.insert(s.sim);
    await a.terminal.sync();
    expect(await terminalData(a)).toEqual({ 'contacts/c2': 'Dave', 'mail/m1': 'hi' });
    const report = await a.terminal.restore(['contacts']);
    expect(report.downloaded.map((c) => c.id)).toEqual(['c1']);
    expect(await terminalData(a)).toEqual(await userArea(s.world));
    // Restoring again changes nothing here.
    await a.terminal.restore(['contacts']);
    expect(await terminalData(a)).toEqual(await userArea(s.world));

    await a.terminal.setCategories(['contacts']);
    await expect(a.terminal.restore(['mail'])).rejects.toMatchObject({
      kind: 'aborted',
      code: 'not-a-target',
    });
  });

  it('[0072]: factory state: data, sync state, registration and password gone, the SIM list entry removed', async () => {
    s = await scene();
    const a = await member(s, 'a', { policy: 'fig11-terminal-list' });
    a.reader.insert(s.sim);
    await a.terminal.edit('pim', 'p1', utf8('dentist'));
    const sim = s.sim;
    const listed = () => {
      const snap = sim.snapshot();
      const stored = [...(snap.terminalIdRecords ?? []), ...snap.adnRecords];
      return stored.some((r) => new TextDecoder('latin1').decode(r).includes(a.terminal.terminalId));
    };
    expect(listed()).toBe(true);
    await a.terminal.erase({ factory: true });
    expect(listed()).toBe(false);
    expect(await a.terminal.registration()).toBeUndefined();
    const left = (await a.nv.scan('')).map((e) => e.key);
    // The terminal's identity (its ID and the key the ID commits to) is the terminal's, not the user's.
    expect(left).toEqual(['c/terminal-id', 'c/terminal-key']);
    expect(await userArea(s.world)).toEqual({ 'pim/p1': 'dentist' });
  });

  it('after a factory erase the same SIM, still in the reader, registers the terminal again', async () => {
    s = await scene();
    const a = await member(s, 'a');
    a.reader.insert(s.sim);
    await a.terminal.edit('pim', 'p1', utf8('dentist'));
    await a.terminal.erase({ factory: true });
    await s.world.register(a, {
      policy: 'fig10-subscriber-binding',
      loginPassword: LOGIN,
      terminalPassword: TERMINAL_PASSWORD,
      categories: [...CATEGORIES],
    });
    expect(await a.terminal.registration()).toBeDefined();
    await a.terminal.sync();
    expect(await terminalData(a)).toEqual({ 'pim/p1': 'dentist' });
  });

  it("S87: refuses with another subscriber's SIM; nothing is erased", async () => {
    s = await scene();
    const a = await member(s, 'a');
    a.reader.insert(s.sim);
    await a.terminal.edit('contacts', 'c1', utf8('Carol'));
    a.reader.remove();
    const stranger = (await import('../../cli/sim-world.js')).SimWorld.sim({ imsi: '228062800000208' });
    a.reader.insert(stranger);
    await expect(a.terminal.erase()).rejects.toMatchObject({
      kind: 'auth-refused',
      code: 'subscriber-mismatch',
    });
    expect(await terminalData(a)).toEqual({ 'contacts/c1': 'Carol' });
  });

  it('never erases data the server does not hold: a change it cannot take keeps the erase from happening', async () => {
    s = await scene();
    // A server on the same store that takes records of at most 64 KiB: a bigger one is set aside, unsent.
    small = await startSyncServer({
      store: s.world.server.store,
      port: null,
      maxRecordBytes: 64 * 1024,
    });
    const link = memoryLink(small);
    const a = await member(s, 'a', { link });
    a.reader.insert(s.sim);
    await a.terminal.edit('contacts', 'c1', utf8('Carol'));
    await a.terminal.edit('archive', 'scan', new Uint8Array(100 * 1024).fill(7));
    const error = await a.terminal.erase().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ kind: 'aborted', code: 'unsynced' });
    expect(Object.keys(await terminalData(a)).sort()).toEqual(['archive/scan', 'contacts/c1']);
    expect(await userArea(s.world)).toEqual({ 'contacts/c1': 'Carol' });
    expect(await a.nv.get('e/intent')).toBeUndefined();
  });

  it('a power cut at every NV commit of an erase never loses data; after restart the erase completes or is abandoned', async () => {
    async function setup() {
      const sc = await scene();
      const nv = new SimNvStore();
      const a = await member(sc, 'a', { nv, options: { batchBytes: 2000 } });
      a.reader.insert(sc.sim);
      for (let i = 0; i < 5; i++) await a.terminal.edit('contacts', `c${i}`, body(`c${i}`));
      await a.terminal.edit('mail', 'keep', utf8('kept'));
      return { sc, a, nv };
    }
    const first = await setup();
    s = first.sc;
    const before = first.nv.stats().commits;
    await first.a.terminal.erase({ factory: true });
    const commits = first.nv.stats().commits - before;
    const expected = await userArea(first.sc.world);
    await closeScene(first.sc);
    s = undefined;
    expect(commits).toBeGreaterThanOrEqual(6);
    const outcomes = new Set<string>();
    for (let cut = 1; cut <= commits; cut++) {
      const { sc, a, nv } = await setup();
      s = sc;
      nv.cutPowerAtCommit(cut);
      await expect(a.terminal.erase({ factory: true }), `cut at ${cut}`).rejects.toBeTruthy();
      nv.powerOn();
      a.reader.remove();
      a.reader.insert(sc.sim);
      const agent = new KeyringAgent(KEYRING);
      const rebooted = await Terminal.create(
        { reader: a.reader, nv, link: sc.world.link(), clock: sc.world.clock, agent },
        { timeoutMs: 5000, batchBytes: 2000 },
      );
      sc.own.push(rebooted);
      expect(await nv.get('e/intent'), `cut at ${cut}`).toBeUndefined();
      if ((await rebooted.registration()) === undefined) {
        outcomes.add('completed');
        expect(
          (await nv.scan('')).map((e) => e.key),
          `cut at ${cut}`,
        ).toEqual(['c/terminal-id', 'c/terminal-key']);
      } else {
        outcomes.add('abandoned');
        await rebooted.sync();
        expect(await rebooted.records.dirtyCount(), `cut at ${cut}`).toBe(0);
      }
      expect(await userArea(sc.world), `cut at ${cut}`).toEqual(expected);
      const log = await sc.world.server.store.changeLog(IMSI);
      expect(log.length, `cut at ${cut}: each change applied once`).toBe(6);
      await closeScene(sc);
      s = undefined;
    }
    expect([...outcomes].sort()).toEqual(['abandoned', 'completed']);
  }, 120_000);
});
