import net from 'node:net';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { openSqliteStore, startSyncServer } from '../broker/index.js';
import { registerVia } from '../broker/test-support.js';
import {
  decodeReply,
  downTopic,
  encodeRequest,
  type Reply,
  type Request,
  upTopic,
} from '../core/protocol/index.js';
import { flatEmptyMaps, nestedArrays } from '../test/support/cbor-bombs.js';
import { JsonLineChild, spawnNode } from './broker-child.js';
import { serveCommands } from './child-commands.js';
import { type BenchResult, machine, median, percentile, type Row, table } from './report.js';

/**
 * Issue 13's abuse bench, against the real sync server in a process of its
 * own (this file run as `abuse.ts serve`), with a normal terminal's probe
 * round trips measured beside each attack in the same run:
 *
 * 1. decode bombs: one authenticated terminal sends 4 MiB bombs, one after
 *    the other's reply, for a few seconds per kind;
 * 2. guessing: wrong login passwords on the registration channel as fast as
 *    the server answers, then the right one; and how long a wrong secret
 *    takes to be answered for an existing and for an unknown subscriber.
 *
 * It measures whatever the server does (attempt limits, budgets): it uses
 * nothing but MQTT and the admin API.
 */

const X = '001010000000102';
const Y = '228062800000208';
const LOGIN = 'the subscriber login password';
const MIB = 1024 * 1024;
const TIMEOUT_MS = 30_000;
/** 50 MB in MiB, the unit RSS is reported in. */
const MB_50 = 50e6 / MIB;

export const quick = { bombSeconds: 2, guessSeconds: 2, timingSamples: 12 };

// ---- the server process -----------------------------------------------------

type Command =
  | { id: number; op: 'setup'; subscribers: { id: string; login?: string }[]; terminals: [string, string][] }
  | { id: number; op: 'stats'; gc?: boolean }
  | { id: number; op: 'close' };

async function serve(): Promise<void> {
  const store = openSqliteStore(':memory:');
  const server = await startSyncServer({ store, host: '127.0.0.1', port: 0 });
  // RSS is sampled between turns of the event loop; a decode holding the loop shows right after it.
  let peak = 0;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  sample.unref();
  const answer = async (command: Command): Promise<Record<string, unknown>> => {
    switch (command.op) {
      case 'setup': {
        for (const s of command.subscribers)
          await server.admin.addSubscriber({
            subscriber: s.id,
            ...(s.login ? { loginPassword: s.login } : {}),
          });
        const credentials: string[] = [];
        for (const [terminalId, subscriber] of command.terminals)
          credentials.push(await registerVia(server, terminalId, subscriber));
        return { credentials };
      }
      case 'stats': {
        if (command.gc) (globalThis as { gc?: () => void }).gc?.();
        const cpu = process.cpuUsage();
        const rss = process.memoryUsage().rss;
        const result = { rss, peakRss: Math.max(peak, rss), cpuUs: cpu.user + cpu.system };
        peak = 0;
        return result;
      }
      case 'close':
        await server.close();
        await store.close();
        return {};
    }
  };
  serveCommands({ port: server.port, pid: process.pid }, answer);
}

interface ServerChild {
  port: number;
  setup(subscribers: { id: string; login?: string }[], terminals: [string, string][]): Promise<string[]>;
  stats(gc?: boolean): Promise<{ rss: number; peakRss: number; cpuUs: number }>;
  close(): Promise<void>;
}

async function spawnServer(): Promise<ServerChild> {
  const rpc = new JsonLineChild(spawnNode('abuse.ts', ['serve']), 120_000);
  const hello = await rpc.hello;
  return {
    port: Number(hello.port),
    setup: async (subscribers, terminals) =>
      (await rpc.call('setup', { subscribers, terminals })).credentials as string[],
    stats: async (gc = false) => (await rpc.call('stats', { gc })) as never,
    close: () => rpc.close(),
  };
}

// ---- clients ----------------------------------------------------------------

function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Outgoing = Request extends infer R ? (R extends { req: number } ? Omit<R, 'req'> : never) : never;

/** A terminal's t-channel connection: raw payloads up, replies matched by req (null: the next with none). */
class Terminal {
  private nextReq = 1;
  private readonly waiting = new Map<number | null, (reply: Reply) => void>();

  private constructor(
    private readonly client: MqttClient,
    private readonly terminalId: string,
  ) {
    client.on('message', (_topic, payload) => {
      const reply = decodeReply(payload);
      if (reply.type === 'updates') return;
      this.waiting.get(reply.req)?.(reply);
      this.waiting.delete(reply.req);
    });
  }

  static async open(port: number, terminalId: string, credential: string): Promise<Terminal> {
    // Nagle off, as the server's sockets: a round trip is not a delayed ACK (40 ms).
    const client = new mqtt.MqttClient(() => net.connect({ host: '127.0.0.1', port, noDelay: true }), {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: TIMEOUT_MS,
      clientId: `t-${terminalId}`,
      username: `t:${terminalId}`,
      password: credential,
    });
    await bounded(
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      }),
      'CONNACK',
    );
    await client.subscribeAsync(downTopic(terminalId, 't'), { qos: 1 });
    return new Terminal(client, terminalId);
  }

  /** Sends `payload` and resolves its reply (the reply to `req`) and the round trip, ms. */
  async send(payload: Uint8Array, req: number | null): Promise<{ reply: Reply; ms: number }> {
    const started = performance.now();
    const reply = new Promise<Reply>((resolve) => this.waiting.set(req, resolve));
    await this.client.publishAsync(upTopic(this.terminalId), Buffer.from(payload), { qos: 1 });
    return { reply: await bounded(reply, `reply to ${req}`), ms: performance.now() - started };
  }

  request(message: Outgoing): Promise<{ reply: Reply; ms: number }> {
    const req = this.nextReq++;
    return this.send(encodeRequest({ ...message, req } as Request), req);
  }

  end(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** A stop condition: true from the (n + 1)th call on. */
function calls(n: number): () => boolean {
  let calls = 0;
  return () => calls++ >= n;
}

/** Probe round trips one after the other until `stop()` says so. */
async function probes(normal: Terminal, stop: () => boolean): Promise<number[]> {
  const rtts: number[] = [];
  while (!stop()) {
    const { reply, ms } = await normal.request({ type: 'probe', subscriber: Y, after: 0 });
    if (reply.type !== 'probe-result') throw new Error(`probe answered ${JSON.stringify(reply)}`);
    rtts.push(ms);
  }
  return rtts;
}

const latency = (rtts: number[]) => ({
  probes: rtts.length,
  rtt_p50_ms: Number(median(rtts).toFixed(2)),
  rtt_p99_ms: Number(percentile(rtts, 99).toFixed(2)),
  rtt_max_ms: Number(Math.max(...rtts).toFixed(2)),
});

// ---- 1. decode bombs ----------------------------------------------------------

const BOMBS: Record<string, (req: number) => { payload: Uint8Array; req: number | null }> = {
  // The control: as many bytes over MQTT, refused on its size before any decoding.
  'control: 4 MiB + 1 B, too-large': () => ({ payload: new Uint8Array(4 * MIB + 1), req: null }),
  // 4 MiB: one array of ~4.2 million empty maps.
  'flat-empty-maps': (req) => ({ payload: flatEmptyMaps(X, req), req }),
  // 4 MiB of 0x81: arrays of one array, 4 million deep.
  'deep-nesting': () => ({ payload: new Uint8Array(4 * MIB).fill(0x81), req: null }),
  // ~4 MiB: 40 arrays of 100,000 empty maps, each array within the length limit.
  'nested-empty-maps': (req) => ({ payload: nestedArrays(X, req, 40, 100_000, 0xa0), req }),
  // The most work a bomb gets within the limits: 1.9 million items (zeros) before it is refused.
  'item-limit-zeros': (req) => ({ payload: nestedArrays(X, req, 20, 100_000, 0x00), req }),
};

/**
 * One phase in a server process of its own, so that no phase inherits
 * another's memory: a normal terminal's probes for `seconds`, beside an
 * attacker sending `kind` bombs one after the other's reply (none: baseline).
 */
async function bombPhase(kind: string | null, seconds: number): Promise<Row> {
  const server = await spawnServer();
  try {
    const [normalCredential, attackerCredential] = await server.setup(
      [{ id: X }, { id: Y }],
      [
        ['normal', Y],
        ['bomber', X],
      ],
    );
    const normal = await Terminal.open(server.port, 'normal', normalCredential as string);
    const attacker = kind ? await Terminal.open(server.port, 'bomber', attackerCredential as string) : null;
    await probes(normal, calls(50)); // warm-up
    const before = await server.stats(true);
    const started = performance.now();
    const over = () => performance.now() - started >= seconds * 1000;
    let sent = 0;
    let answered = 0;
    let reason = '';
    const attack = async () => {
      while (attacker && kind && !over()) {
        const bomb = BOMBS[kind]!(1000 + sent);
        sent++;
        const { reply } = await attacker.send(bomb.payload, bomb.req);
        answered++;
        reason = reply.type === 'error' ? `${reply.code}: ${reply.message}` : reply.type;
      }
    };
    // The attacker's last bomb may be held by the budget: not waited for.
    void attack().catch((e: unknown) => {
      reason = `attacker stopped: ${(e as Error).message}`;
    });
    const rtts = await probes(normal, over);
    const during = await server.stats();
    const elapsed = (performance.now() - started) / 1000;
    const after = await server.stats(true);
    return {
      scenario: 'decode-bomb',
      phase: kind ?? 'baseline (no attacker)',
      bombs_answered: answered,
      bombs_held: sent - answered,
      ...latency(rtts),
      server_cpu_pct: Math.round((during.cpuUs - before.cpuUs) / 1e4 / elapsed),
      rss_before_mib: Number((before.rss / MIB).toFixed(1)),
      rss_peak_mib: Number((during.peakRss / MIB).toFixed(1)),
      rss_after_mib: Number((after.rss / MIB).toFixed(1)),
      reply: reason,
    };
  } finally {
    await server.close();
  }
}

async function bombRun(options: { bombSeconds: number }): Promise<Row[]> {
  const rows: Row[] = [await bombPhase(null, options.bombSeconds)];
  for (const kind of Object.keys(BOMBS)) rows.push(await bombPhase(kind, options.bombSeconds));
  return rows;
}

// ---- 2. guessing --------------------------------------------------------------

/** MQTT 3.1.1 §3.1 CONNECT with username and password; §3.2 CONNACK's return code, or -1 if closed without one. */
function connack(
  port: number,
  user: string,
  password: string,
  localAddress = '127.0.0.1',
): Promise<{ code: number; ms: number }> {
  const field = (text: string) => {
    const b = Buffer.from(text, 'utf8');
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const body = Buffer.concat([
    field('MQTT'),
    Buffer.from([4, 0xc2, 0, 60]),
    field(`guess-${Math.random().toString(36).slice(2, 10)}`),
    field(user),
    field(password),
  ]);
  const length: number[] = [];
  for (let n = body.length; ; ) {
    length.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
    if (n === 0) break;
  }
  const packet = Buffer.concat([Buffer.from([0x10, ...length]), body]);
  return new Promise((resolve) => {
    let sentAt = 0;
    const socket = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true }, () => {
      sentAt = performance.now();
      socket.write(packet);
    });
    const done = (code: number) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ code, ms: performance.now() - sentAt });
    };
    const timer = setTimeout(() => done(-1), TIMEOUT_MS);
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got[0] === 0x20) done(got[3] ?? -1);
    });
    socket.on('error', () => done(-1));
    socket.on('close', () => done(-1));
  });
}

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3) as this server uses them; -1: closed without one. */
const codes = (results: { code: number }[]) => {
  const count = (c: number) => results.filter((r) => r.code === c).length;
  return {
    code0_accepted: count(0),
    code3_unchecked_retry_later: count(3),
    code4_checked_wrong: count(4),
    code5_not_authorized: count(5),
    no_connack: count(-1),
  };
};

async function guessRun(options: { guessSeconds: number; timingSamples: number }): Promise<Row[]> {
  const rows: Row[] = [];
  const server = await spawnServer();
  try {
    const [credential] = await server.setup([{ id: X, login: LOGIN }, { id: Y }], [['normal', Y]]);
    const normal = await Terminal.open(server.port, 'normal', credential as string);
    await probes(normal, calls(50));
    const baselineEnd = performance.now() + options.guessSeconds * 1000;
    rows.push({
      scenario: 'guessing',
      phase: 'baseline',
      ...latency(await probes(normal, () => performance.now() >= baselineEnd)),
    });

    const end = performance.now() + options.guessSeconds * 1000;
    const results: { code: number; ms: number }[] = [];
    let n = 0;
    const guesser = async () => {
      while (performance.now() < end)
        results.push(await connack(server.port, 'reg:100000000000000001', `${X}:wrong ${n++}`));
    };
    const started = performance.now();
    const [rtts] = await Promise.all([
      probes(normal, () => performance.now() >= end),
      ...Array.from({ length: 4 }, guesser),
    ]);
    const seconds = (performance.now() - started) / 1000;
    const right = await connack(server.port, 'reg:100000000000000001', `${X}:${LOGIN}`);
    rows.push({
      scenario: 'guessing',
      phase: 'wrong passwords, 4 at once',
      guesses: results.length,
      answered_per_s: Number((results.filter((r) => r.code >= 0).length / seconds).toFixed(1)),
      ...codes(results),
      answer_p50_ms: Number(median(results.map((r) => r.ms)).toFixed(2)),
      right_one_code: right.code,
      ...latency(rtts),
    });
    await normal.end();
  } finally {
    await server.close();
  }
  rows.push(...(await timingRun(options.timingSamples)));
  return rows;
}

/**
 * A wrong secret for an existing and for an unknown subscriber, alternately,
 * each attempt from a source address of its own (127.0.x.y) and existing
 * subscribers taken in turn, so that no attempt limit has yet been reached:
 * what is left is the cost of checking.
 */
async function timingRun(samples: number): Promise<Row[]> {
  const server = await spawnServer();
  try {
    const existing = Array.from(
      { length: Math.ceil(samples / 2) },
      (_, i) => `00101${String(i).padStart(10, '0')}`,
    );
    await server.setup(
      existing.map((id) => ({ id, login: LOGIN })),
      [],
    );
    const known: { code: number; ms: number }[] = [];
    const unknown: { code: number; ms: number }[] = [];
    for (let i = 0; i < samples; i++) {
      const source = (k: number) => `127.1.${(k + 1) >> 8}.${(k + 1) & 0xff}`;
      known.push(
        await connack(
          server.port,
          `reg:2000000000000${i}`,
          `${existing[i % existing.length]}:wrong`,
          source(2 * i),
        ),
      );
      const stranger = `99999${String(i).padStart(10, '0')}`;
      unknown.push(
        await connack(server.port, `reg:3000000000000${i}`, `${stranger}:wrong`, source(2 * i + 1)),
      );
    }
    return [known, unknown].map((results, i) => ({
      scenario: 'guess-timing',
      phase: i === 0 ? 'existing subscriber, wrong secret' : 'unknown subscriber',
      guesses: results.length,
      ...codes(results),
      answer_p50_ms: Number(median(results.map((r) => r.ms)).toFixed(2)),
      answer_p90_ms: Number(
        percentile(
          results.map((r) => r.ms),
          90,
        ).toFixed(2),
      ),
    }));
  } finally {
    await server.close();
  }
}

// ---- the bench ------------------------------------------------------------------

export async function run(
  options: { bombSeconds?: number; guessSeconds?: number; timingSamples?: number } = {},
): Promise<BenchResult> {
  const settings = { bombSeconds: 10, guessSeconds: 5, timingSamples: 60, ...options };
  const bombs = await bombRun(settings);
  const guesses = await guessRun(settings);
  const attacks = bombs.filter((r) => !String(r.phase).startsWith('baseline'));
  const [known, unknown] = guesses.filter((r) => r.scenario === 'guess-timing');
  const ratio = Number(known?.answer_p50_ms) / Number(unknown?.answer_p50_ms);
  return {
    bench: 'abuse',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: {
      ...settings,
      bombBytes: 4 * MIB,
      guessers: 4,
      existingToUnknownAnswerRatio: Number(ratio.toFixed(2)),
    },
    rows: [...bombs, ...guesses],
    targets: {
      // Each phase in a fresh server process: what its bombs add to that process's RSS.
      'RSS peak while bombs run within +50 MB of before': attacks.every(
        (r) => Number(r.rss_peak_mib) - Number(r.rss_before_mib) <= MB_50,
      ),
      'RSS after the bombs (after a GC) within +50 MB of before': attacks.every(
        (r) => Number(r.rss_after_mib) - Number(r.rss_before_mib) <= MB_50,
      ),
      "another terminal's round trip p99 < 100 ms while bombs run": attacks.every(
        (r) => Number(r.rtt_p99_ms) < 100,
      ),
      'wrong-secret answers do not tell existing from unknown subscribers (medians within 1.5x)':
        ratio <= 1.5 && ratio >= 1 / 1.5,
    },
  };
}

export function print(result: BenchResult): void {
  for (const scenario of ['decode-bomb', 'guessing', 'guess-timing']) {
    const rows = result.rows.filter((r) => r.scenario === scenario);
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    console.log(table(rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? '']))) as Row[]));
  }
  for (const [target, met] of Object.entries(result.targets))
    console.log(`${met ? 'met    ' : 'MISSED '} ${target}`);
  console.log(
    `existing / unknown subscriber answer time: ${result.parameters.existingToUnknownAnswerRatio}x`,
  );
}

if (
  process.argv[2] === 'serve' &&
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  await serve();
}
