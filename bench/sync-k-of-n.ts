import { KeyringAgent, type SimTerminal, SimWorld } from '../cli/sim-world.js';
import { CATEGORIES } from '../core/index.js';
import { KEYRING, body as pattern } from './fixtures.js';
import { plainPublish } from './plain-mqtt.js';
import { type BenchResult, machine, printResult, type Row } from './report.js';

/**
 * Issue 4's bench: one sync of k changed records among N, over loopback TCP
 * through the real sync server, against plain MQTT QoS 1 publishes of the
 * same records through an unmodified Aedes in the same run.
 */
const IMSI = '001010000000102';
const BODY_BYTES = 200;

const body = (seed: number) => pattern(seed, BODY_BYTES);

export const quick = { n: 500, ks: [1, 10, 500] };

async function terminal(world: SimWorld, name: string): Promise<SimTerminal> {
  const t = await world.addTerminal(name, new KeyringAgent(KEYRING), { timeoutMs: 120_000 });
  t.reader.insert(SimWorld.sim());
  await world.register(t, {
    policy: 'fig10-subscriber-binding',
    loginPassword: 'bench-login',
    terminalPassword: KEYRING.terminalPassword,
    categories: [...CATEGORIES],
  });
  return t;
}

async function world(): Promise<SimWorld> {
  const w = await SimWorld.start();
  await w.server.admin.addSubscriber({ subscriber: IMSI, loginPassword: 'bench-login' });
  return w;
}

async function edit(t: SimTerminal, k: number, round: number): Promise<void> {
  // The user's edits (the SIM stays in this bench's terminals), one grant for the batch of them.
  const data = await t.terminal.personalData('write');
  for (let i = 0; i < k; i++) await data.edit('contacts', `c${i}`, body(i + round * 100_003));
}

/** Syncs k edited records of a terminal that already holds N synced ones. */
async function changeRun(t: SimTerminal, n: number, k: number, round: number): Promise<Row> {
  await edit(t, k, round);
  const started = performance.now();
  const report = await t.terminal.sync();
  const ms = performance.now() - started;
  if (report.uploaded.length !== k) throw new Error(`uploaded ${report.uploaded.length}, expected ${k}`);
  const wire = report.bytesSent + report.bytesReceived;
  return {
    N: n,
    k,
    sync_ms: Math.round(ms),
    wire_bytes: wire,
    overhead_per_record: (wire - k * BODY_BYTES) / k,
  };
}

export async function run(options: { n?: number; ks?: number[] } = {}): Promise<BenchResult> {
  const n = options.n ?? 10_000;
  const ks = options.ks ?? [1, 100, 10_000];
  const rows: Row[] = [];
  const w = await world();
  try {
    const a = await terminal(w, 'a');
    await edit(a, n, 0);
    await a.terminal.sync();
    for (const [i, k] of ks.entries())
      rows.push({ case: 'change', ...(await changeRun(a, n, Math.min(k, n), i + 1)) });

    // The same one-record change in a 10-record store: bytes must not depend on N.
    const small = await world();
    try {
      const s = await terminal(small, 's');
      await edit(s, 10, 0);
      await s.terminal.sync();
      rows.push({ case: 'change', ...(await changeRun(s, 10, 1, 1)) });
    } finally {
      await small.close();
    }

    // First sync: a fresh terminal downloads all N.
    const b = await terminal(w, 'b');
    const started = performance.now();
    const first = await b.terminal.sync();
    const firstMs = performance.now() - started;
    if (first.downloaded.length !== n) throw new Error(`first sync got ${first.downloaded.length} of ${n}`);
    const baseline = await plainPublish(Array.from({ length: n }, (_, i) => body(i)));
    const firstWire = first.bytesSent + first.bytesReceived;
    rows.push({
      case: 'first-sync',
      N: n,
      k: n,
      sync_ms: Math.round(firstMs),
      wire_bytes: firstWire,
      overhead_per_record: (firstWire - n * BODY_BYTES) / n,
    });
    rows.push({
      case: 'baseline-plain-mqtt',
      N: n,
      k: n,
      sync_ms: Math.round(baseline.ms),
      wire_bytes: baseline.wireBytes,
      overhead_per_record: (baseline.wireBytes - 2 * n * BODY_BYTES) / (2 * n),
    });
    const change1 = rows.find((r) => r.case === 'change' && r.k === 1 && r.N === n)!;
    const change1Small = rows.find((r) => r.case === 'change' && r.k === 1 && r.N === 10)!;
    const bulk = rows.find((r) => r.case === 'change' && r.k === Math.max(...ks))!;
    const ratio = firstMs / baseline.ms;
    return {
      bench: 'sync-k-of-n',
      startedAt: new Date().toISOString(),
      machine: machine(),
      parameters: { n, ks, bodyBytes: BODY_BYTES, firstSyncToBaselineRatio: Number(ratio.toFixed(2)) },
      rows,
      targets: {
        'bytes grow with k, not N (1-of-N vs 1-of-10 within 5%)':
          Math.abs(Number(change1.wire_bytes) - Number(change1Small.wire_bytes)) <=
          0.05 * Number(change1Small.wire_bytes),
        'overhead <= 40 bytes per record (bulk change)': Number(bulk.overhead_per_record) <= 40,
        'overhead <= 40 bytes per record (first sync)': (firstWire - n * BODY_BYTES) / n <= 40,
        'first sync within 3x of plain publish': ratio <= 3,
      },
    };
  } finally {
    await w.close();
  }
}

export function print(result: BenchResult): void {
  printResult(result);
  console.log(`first sync / plain-publish baseline: ${result.parameters.firstSyncToBaselineRatio}x`);
}
