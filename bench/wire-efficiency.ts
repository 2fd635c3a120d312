import { KeyringAgent, type SimTerminal, SimWorld } from '../cli/sim-world.js';
import { CountingLink } from './counting-link.js';
import { KEYRING, vcard } from './fixtures.js';
import { type BenchResult, machine, printResult, type Row } from './report.js';
import { type SyncMlChange, syncMlBytes } from './syncml.js';

/**
 * Issue 8 §2: bytes on the wire per synced record beyond its body, for k
 * changed contacts among N, counted at the link over whole sessions (MQTT
 * CONNECT to DISCONNECT: card mounted → sync → card demounted), both for
 * the terminal uploading the changes and for another terminal of the same
 * subscriber downloading them; beside it the bytes an OMA DS (SyncML 1.2)
 * session would need for the same changes (see syncml.ts).
 */
export interface WireOptions {
  n?: number;
  ks?: number[];
  /** The small store the one-record change is compared against. */
  small?: number;
}

export const quick: WireOptions = { n: 2_000, ks: [1, 100, 2_000] };

const SUBSCRIBER = '001010000000102';

interface Side {
  t: SimTerminal;
  link: CountingLink;
}

interface Session {
  bytes: number;
  up: number;
  down: number;
}

async function side(world: SimWorld, name: string): Promise<Side> {
  const link = new CountingLink(world.link());
  const t = await world.addTerminal(name, new KeyringAgent(KEYRING), { link, timeoutMs: 120_000 });
  t.reader.insert(SimWorld.sim());
  await world.register(t, {
    policy: 'fig10-subscriber-binding',
    loginPassword: 'bench-login',
    terminalPassword: KEYRING.terminalPassword,
    categories: ['contacts'],
  });
  t.reader.remove();
  return { t, link };
}

/** One whole session: SIM in (mount sync), SIM out (demount upload, link closed). */
async function session({ t, link }: Side): Promise<Session> {
  link.reset();
  t.reader.insert(SimWorld.sim());
  const report = await t.terminal.mount();
  t.reader.remove();
  await t.terminal.demount();
  return { bytes: link.total, up: report?.uploaded.length ?? 0, down: report?.downloaded.length ?? 0 };
}

async function edit(s: Side, k: number, round: number): Promise<SyncMlChange[]> {
  const changes: SyncMlChange[] = [];
  // The user's edits, made with the SIM in (Terminal.edit, its checks); the session measured after is separate.
  s.t.reader.insert(SimWorld.sim());
  try {
    const data = await s.t.terminal.personalData('write');
    for (let i = 0; i < k; i++) {
      const change = { id: `c${i}`, body: vcard(i + round * 1_000_003) };
      await data.edit('contacts', change.id, change.body);
      changes.push(change);
    }
  } finally {
    s.t.reader.remove();
  }
  return changes;
}

/** A subscriber with `n` contacts, held by two terminals. */
async function store(n: number): Promise<{ world: SimWorld; a: Side; b: Side }> {
  const world = await SimWorld.start();
  await world.server.admin.addSubscriber({ subscriber: SUBSCRIBER, loginPassword: 'bench-login' });
  const a = await side(world, 'a');
  const b = await side(world, 'b');
  await edit(a, n, 0);
  await session(a);
  const seeded = await session(b);
  if (seeded.down !== n) throw new Error(`seeding: b got ${seeded.down} of ${n}`);
  return { world, a, b };
}

async function measure(a: Side, b: Side, n: number, k: number, round: number): Promise<Row[]> {
  const changes = await edit(a, k, round);
  const bodies = changes.reduce((sum, c) => sum + c.body.length, 0);
  const up = await session(a);
  const down = await session(b);
  if (up.up !== k || down.down !== k) throw new Error(`k=${k}: uploaded ${up.up}, downloaded ${down.down}`);
  const row = (direction: string, bytes: number, syncml: number): Row => ({
    N: n,
    k,
    direction,
    body_bytes: bodies,
    wire_bytes: bytes,
    overhead_per_record: Number(((bytes - bodies) / k).toFixed(1)),
    syncml_bytes: syncml,
    syncml_overhead_per_record: Number(((syncml - bodies) / k).toFixed(1)),
  });
  return [row('up', up.bytes, syncMlBytes(changes, [])), row('down', down.bytes, syncMlBytes([], changes))];
}

/** Bytes per extra record beyond its body between two k (the fixed session cost cancels out). */
function marginal(rows: readonly Row[], n: number, direction: string, k1: number, k2: number): number {
  const at = (k: number) => rows.find((r) => r.direction === direction && r.k === k && r.N === n);
  const [x, y] = [at(k1), at(k2)];
  if (x === undefined || y === undefined || k1 === k2) return Number.NaN;
  const extra = Number(y.wire_bytes) - Number(x.wire_bytes) - (Number(y.body_bytes) - Number(x.body_bytes));
  return Number((extra / (k2 - k1)).toFixed(1));
}

export async function run(options: WireOptions = {}): Promise<BenchResult> {
  const n = options.n ?? 100_000;
  const ks = (options.ks ?? [1, 100, 10_000]).map((k) => Math.min(k, n));
  const smallN = options.small ?? 10;
  const rows: Row[] = [];
  const big = await store(n);
  try {
    for (const [i, k] of ks.entries()) rows.push(...(await measure(big.a, big.b, n, k, i + 1)));
  } finally {
    await big.world.close();
  }
  const small = await store(smallN);
  try {
    rows.push(...(await measure(small.a, small.b, smallN, 1, 1)));
  } finally {
    await small.world.close();
  }
  const kMax = Math.max(...ks);
  const kMid = ks.filter((k) => k < kMax).at(-1) ?? kMax;
  const pick = (N: number, k: number, direction: string) =>
    rows.find((r) => r.N === N && r.k === k && r.direction === direction) as Row;
  const same = (direction: string) => {
    const [x, y] = [Number(pick(n, 1, direction).wire_bytes), Number(pick(smallN, 1, direction).wire_bytes)];
    return Math.abs(x - y) <= 0.05 * y;
  };
  const bulk = (direction: string) => Number(pick(n, kMax, direction).overhead_per_record);
  const slopes = { up: marginal(rows, n, 'up', kMid, kMax), down: marginal(rows, n, 'down', kMid, kMax) };
  return {
    bench: 'wire-efficiency',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: {
      n,
      ks,
      small: smallN,
      body: 'vCard 3.0 text, 340-620 bytes',
      recordIds: `c0..c${n - 1}`,
      marginalOverheadPerRecord: slopes,
      oneRecordBytes: {
        [`up N=${n}`]: pick(n, 1, 'up').wire_bytes,
        [`up N=${smallN}`]: pick(smallN, 1, 'up').wire_bytes,
        [`down N=${n}`]: pick(n, 1, 'down').wire_bytes,
        [`down N=${smallN}`]: pick(smallN, 1, 'down').wire_bytes,
      },
    },
    rows,
    targets: {
      [`overhead <= 40 bytes/record, whole sessions (k=${kMax}, up)`]: bulk('up') <= 40,
      [`overhead <= 40 bytes/record, whole sessions (k=${kMax}, down)`]: bulk('down') <= 40,
      'marginal overhead <= 40 bytes/record (up and down)': slopes.up <= 40 && slopes.down <= 40,
      [`1-of-${n} costs the same bytes as 1-of-${smallN}, within 5% (up)`]: same('up'),
      [`1-of-${n} costs the same bytes as 1-of-${smallN}, within 5% (down)`]: same('down'),
    },
  };
}

export function print(result: BenchResult): void {
  printResult(result);
  console.log(
    `marginal bytes per record beyond its body: ${JSON.stringify(result.parameters.marginalOverheadPerRecord)}`,
  );
}
