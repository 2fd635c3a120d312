import { CATEGORIES, type Category, type SyncReport, utf8 } from '../core/index.js';
import { KeyringAgent, type SimTerminal, SimWorld } from './sim-world.js';

const IMSI = '001010000000102';
const ICCID = '8988211000000430010';
const LOGIN = 'demo-login';
const KEYRING = { pin: '1234', terminalPassword: 'demo-terminal-pw' };

type Print = (line: string) => void;

/** FIG. 16's updates: [after mounting on, record made there]. */
const SCRIPT: { on: string; id: string; category: Category; body: string }[] = [
  { on: '10a', id: 'a1', category: 'contacts', body: 'Alice +81 3 1234 5678' },
  { on: '10b', id: 'b1', category: 'mail', body: 'Re: lunch on Friday' },
  { on: '10c', id: 'c1', category: 'pim', body: 'Dentist, Tue 10:00' },
  { on: '10a', id: 'a2', category: 'browser', body: 'https://example.org/timetable' },
  { on: '10b', id: 'b2', category: 'settings', body: 'ringtone=bells' },
];

async function keysOf(t: SimTerminal): Promise<Set<string>> {
  const out = new Set<string>();
  for (const c of CATEGORIES) for (const r of await t.terminal.records.list(c)) out.add(`${c}/${r.id}`);
  return out;
}

async function userArea(world: SimWorld): Promise<Set<string>> {
  const rows = await world.server.store.recordsAfter({
    subscriber: IMSI,
    after: 0,
    upTo: Number.MAX_SAFE_INTEGER,
    categories: CATEGORIES,
    limit: 1_000_000,
  });
  return new Set(rows.filter((r) => r.body !== null).map((r) => `${r.category}/${r.recordId}`));
}

const names = (keys: Iterable<string>) =>
  [...keys]
    .map((k) => k.split('/')[1])
    .sort()
    .join(' + ') || '—';

/**
 * `simsync demo`: FIG. 16 ([0058]–[0065]) in one process — a sync server on
 * loopback TCP, three simulated terminals, one virtual SIM moved between
 * them. Returns the number of inconsistencies found (0 = success).
 */
export async function runDemo(print: Print = console.log): Promise<number> {
  const world = await SimWorld.start();
  let problems = 0;
  try {
    await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
    const sim = SimWorld.sim({ iccid: ICCID, imsi: IMSI, pin: KEYRING.pin });
    const terminals = new Map<string, SimTerminal>();
    print(`server listening on 127.0.0.1:${world.port}; subscriber ${IMSI}`);
    for (const name of ['10a', '10b', '10c']) {
      const t = await world.addTerminal(name, new KeyringAgent(KEYRING));
      t.reader.insert(sim);
      await world.register(t, {
        policy: 'fig10-subscriber-binding',
        loginPassword: LOGIN,
        terminalPassword: KEYRING.terminalPassword,
        categories: [...CATEGORIES],
      });
      t.reader.remove();
      t.terminal.start();
      terminals.set(name, t);
      print(`registered terminal ${name} (id ${t.terminal.terminalId}, FIG. 8 + FIG. 10-A)`);
    }

    const visit = async (name: string, at: string, edit?: (typeof SCRIPT)[number], demountAt = '') => {
      const t = terminals.get(name)!;
      const lacking = await userArea(world);
      for (const k of await keysOf(t)) lacking.delete(k);
      const mount = await onlyReport(t, () => world.insert(t, sim));
      const got = new Set(mount.downloaded.map((c) => `${c.category}/${c.id}`));
      const exact = names(got) === names(lacking);
      if (!exact) problems++;
      print(
        `${at.padEnd(3)} SIM → ${name}  mount:   downloaded ${names(got)}${exact ? '' : `  ✗ expected ${names(lacking)}`}`,
      );
      if (edit) {
        await t.terminal.edit(edit.category, edit.id, utf8(edit.body));
        print(`        ${name} edits ${edit.category}/${edit.id}`);
        const demount = await onlyReport(t, () => world.remove(t));
        const area = await userArea(world);
        print(
          `${demountAt.padEnd(3)}     SIM ← ${name}  demount: uploaded ${names(demount.uploaded.map((u) => `x/${u.id}`))}   user area: ${names(area)}`,
        );
      } else {
        await world.remove(t);
      }
      const area = await userArea(world);
      const held = await keysOf(t);
      if (names(held) !== names(area)) {
        problems++;
        print(`        ✗ ${name} holds ${names(held)} but the user area holds ${names(area)}`);
      }
    };

    // [0059]–[0064]: mounted at T0 on 10a; demounted at T1…T5.
    for (const [i, step] of SCRIPT.entries()) await visit(step.on, i === 0 ? 'T0' : '', step, `T${i + 1}`);
    print('');
    print('every terminal once more ([0066]: consistent whenever the SIM is mounted):');
    for (const name of ['10a', '10c', '10b']) await visit(name, '');
    print('');
    print(
      problems === 0 ? 'all three terminals hold the user area: consistent' : `${problems} inconsistencies`,
    );
    return problems;
  } finally {
    await world.close();
  }
}

async function onlyReport(t: SimTerminal, action: () => Promise<void>): Promise<SyncReport> {
  const reports: SyncReport[] = [];
  const off = t.terminal.onReport((r) => reports.push(r));
  try {
    await action();
  } finally {
    off();
  }
  const report = reports[0];
  if (reports.length !== 1 || report === undefined) {
    const agent = t.agent as KeyringAgent;
    const why = agent.notices.filter((n) => n.kind === 'sync-rejected').map((n) => JSON.stringify(n));
    throw new Error(`expected one sync on ${t.name}, got ${reports.length} ${why.join(' ')}`);
  }
  return report;
}
