import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeRequest, unwrap } from '../core/protocol/index.js';
import type { ByteStream, LinkState, RadioLink, Unsubscribe } from '../hal/index.js';
import { SystemClock, TcpLink } from '../hal-linux/index.js';
import { spawnBroker } from './broker-child.js';
import { body, imsi, shopTerminal } from './fixtures.js';
import { type BenchResult, machine, median, percentile, printResult, type Row } from './report.js';

/**
 * Issue 20: where one sync session's time goes. One shop-registered
 * terminal runs the sync-throughput cycle (k records edited with the SIM
 * out, then SIM in → mount sync → SIM out → demount) against the sync server
 * in its own process (SQLite file store), `rounds` times, on a link that
 * stamps every MQTT packet it writes and reads. A session becomes a row of
 * phases between consecutive events: the terminal's own work (card checks,
 * building a batch, settling an ack) and each round trip (CONNECT, SUBSCRIBE,
 * each request by its type), with the median and p90 of each over the rounds
 * and its share of the median session. The stamps cost a timestamp and a
 * copy of each outgoing packet; requests are named after the session ends.
 */
export interface PhaseOptions {
  rounds?: number;
  k?: number;
  bodyBytes?: number;
  timeoutMs?: number;
}

export const quick: PhaseOptions = { rounds: 20 };

const PACKET_TYPES = [
  'reserved',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH',
];

interface Stamp {
  at: number;
  /** 'out' a packet written, 'in' bytes read, 'mark' a step of the cycle. */
  kind: 'out' | 'in' | 'mark';
  what: string;
  /** An outgoing PUBLISH, kept to name its request afterwards. */
  bytes?: Uint8Array;
}

/** A RadioLink that stamps each packet: mqtt.js writes one packet per write (core/net/byte-stream-duplex.ts). */
class StampingLink implements RadioLink {
  stamps: Stamp[] = [];

  constructor(private readonly inner: RadioLink) {}

  state(): LinkState {
    return this.inner.state();
  }

  onState(listener: (state: LinkState) => void): Unsubscribe {
    return this.inner.onState(listener);
  }

  mark(what: string): void {
    this.stamps.push({ at: performance.now(), kind: 'mark', what });
  }

  async open(): Promise<ByteStream> {
    this.mark('link open asked');
    const stream = await this.inner.open();
    this.mark('link open');
    stream.onData((bytes) =>
      this.stamps.push({
        at: performance.now(),
        kind: 'in',
        what: PACKET_TYPES[(bytes[0] ?? 0) >> 4] ?? '?',
      }),
    );
    return {
      write: (bytes) => {
        const what = PACKET_TYPES[(bytes[0] ?? 0) >> 4] ?? '?';
        this.stamps.push({
          at: performance.now(),
          kind: 'out',
          what,
          ...(what === 'PUBLISH' ? { bytes: bytes.slice() } : {}),
        });
        return stream.write(bytes);
      },
      onData: (listener) => stream.onData(listener),
      onClose: (listener) => stream.onClose(listener),
      close: () => stream.close(),
    };
  }
}

/** The request a PUBLISH packet carries (MQTT 3.1.1 §3.3: remaining length, topic, packet id at QoS > 0). */
async function requestType(packet: Uint8Array): Promise<string> {
  // The remaining length is what follows it: a write is a whole packet, so only its bytes are skipped.
  let at = 1;
  while (((packet[at++] ?? 0) & 0x80) !== 0 && at < 5);
  const topicLength = ((packet[at] ?? 0) << 8) | (packet[at + 1] ?? 0);
  at += 2 + topicLength;
  if (((packet[0] ?? 0) >> 1) & 0x03) at += 2;
  try {
    const { cbor } = await unwrap(packet.subarray(at), 8 * 1024 * 1024);
    return decodeRequest(cbor).type;
  } catch {
    return 'request';
  }
}

/** The session's phases, in order: the gap before each event, named by what it waited for. */
async function phasesOf(stamps: Stamp[]): Promise<Array<[string, number]>> {
  const names: string[] = [];
  let request = 'request';
  for (const stamp of stamps) {
    if (stamp.kind === 'mark') names.push(stamp.what);
    else if (stamp.kind === 'out' && stamp.what === 'PUBLISH') {
      request = await requestType(stamp.bytes as Uint8Array);
      names.push(`${request} out`);
    } else if (stamp.kind === 'out') names.push(`${stamp.what} out`);
    else names.push(stamp.what === 'PUBLISH' ? `${request} reply in` : `${stamp.what} in`);
  }
  const phases: Array<[string, number]> = [];
  for (let i = 1; i < stamps.length; i++) {
    const prev = stamps[i - 1] as Stamp;
    const stamp = stamps[i] as Stamp;
    // The server's part: from a packet out to its answer in; the rest is the terminal's.
    const side = prev.kind === 'out' && stamp.kind === 'in' ? 'server' : 'terminal';
    phases.push([`${side}: ${names[i - 1]} → ${names[i]}`, stamp.at - prev.at]);
  }
  return phases;
}

export async function run(options: PhaseOptions = {}): Promise<BenchResult> {
  const o: Required<PhaseOptions> = {
    rounds: options.rounds ?? 200,
    k: options.k ?? 100,
    bodyBytes: options.bodyBytes ?? 200,
    timeoutMs: options.timeoutMs ?? 30_000,
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-phases-'));
  const broker = await spawnBroker('sync', { data: path.join(dir, 'sync.db'), timeoutMs: o.timeoutMs });
  const clock = new SystemClock();
  const link = new StampingLink(
    new TcpLink({ host: '127.0.0.1', port: broker.port, timeoutMs: o.timeoutMs }),
  );
  try {
    const [code] = await broker.shop(imsi(0), ['ph-0'], ['contacts']);
    const t = await shopTerminal({
      port: broker.port,
      clock,
      terminalId: 'ph-0',
      subscriber: 0,
      code: code as string,
      categories: ['contacts'],
      timeoutMs: o.timeoutMs,
      link,
    });
    const byPhase = new Map<string, { ms: number[]; at: number[] }>();
    const sessions: number[] = [];
    try {
      for (let round = 1; round <= o.rounds; round++) {
        t.reader.insert(t.card);
        const data = await t.terminal.personalData('write');
        for (let i = 0; i < o.k; i++)
          await data.edit('contacts', `ph-${i}`, body(round * o.k + i, o.bodyBytes));
        link.stamps = [];
        const started = performance.now();
        link.mark('SIM in, mount');
        await t.terminal.mount();
        link.mark('mount sync done');
        t.reader.remove();
        await t.terminal.demount();
        link.mark('demounted');
        sessions.push(performance.now() - started);
        for (const [at, [name, ms]] of (await phasesOf(link.stamps)).entries()) {
          const seen = byPhase.get(name) ?? { ms: [], at: [] };
          seen.ms.push(ms);
          seen.at.push(at);
          byPhase.set(name, seen);
        }
      }
    } finally {
      await t.terminal.stop().catch(() => {});
    }
    const session = median(sessions);
    const rows: Row[] = [];
    let step = 0;
    // In session order; a phase seen in fewer than half the sessions (the first one's AKA challenge) is left out.
    const typical = [...byPhase]
      .filter(([, seen]) => seen.ms.length * 2 >= o.rounds)
      .sort(([, a], [, b]) => median(a.at) - median(b.at));
    for (const [phase, { ms }] of typical) {
      rows.push({
        step: ++step,
        phase,
        sessions: ms.length,
        p50_ms: Number(median(ms).toFixed(2)),
        p90_ms: Number(percentile(ms, 90).toFixed(2)),
        share_of_p50: Number((median(ms) / session).toFixed(3)),
      });
    }
    rows.push({
      step: ++step,
      phase: 'whole session (SIM in to link closed)',
      sessions: sessions.length,
      p50_ms: Number(session.toFixed(2)),
      p90_ms: Number(percentile(sessions, 90).toFixed(2)),
      share_of_p50: 1,
    });
    return {
      bench: 'session-phases',
      startedAt: new Date().toISOString(),
      machine: machine(),
      parameters: { ...o },
      rows,
      targets: {},
    };
  } finally {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const print = printResult;
