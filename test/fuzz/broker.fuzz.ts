import { encode } from 'cborg';
import { openSqliteStore, type SyncServer, type SyncStore, startSyncServer } from '../../broker/index.js';
import { registerVia } from '../../broker/test-support.js';
import { categoryCode, encodeRequest, type Reply, type Request, upTopic } from '../../core/protocol/index.js';
import { FuzzClient } from './broker-client.js';
import {
  crash,
  type FuzzOptions,
  type FuzzResult,
  heapAfterGc,
  hex,
  mutateBytes,
  newResult,
} from './fuzz-result.js';
import { Seeded } from './seeded.js';

/** Fuzzing terminals, each the only terminal of its own subscriber, so its state is its own to check. */
const FUZZERS = 6;
const subscriberOf = (i: number) => `00101000000${String(100 + i)}`;
const HEALTHY_SUBSCRIBER = '228062800000208';
/** Inputs between two checks that a well-behaved terminal still syncs. */
const HEALTH_EVERY = 250;
/** A well-behaved sync must be answered within this while the fuzzers run. */
const HEALTHY_MS = 3000;

type Fields = Record<string, unknown>;

interface Fuzzer {
  client: FuzzClient;
  index: number;
  subscriber: string;
  lastBatch: number;
  /** The last upload acknowledged, to replay. */
  lastUpload: Fields | undefined;
  req: number;
}

/** Values of every CBOR type and the edges of each, to put in a field. */
const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  -1,
  0,
  0xffff_ffff + 1,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1.5,
  '',
  'x'.repeat(600),
  '\u0000',
  new Uint8Array(0),
  new Uint8Array(40),
  [],
  {},
  [[]],
  ['contacts', 'contacts'],
  'contacts',
  'upload',
  Array.from({ length: 200 }, (_, i) => i),
];

function validRequest(random: Seeded, f: Fuzzer): Fields {
  const base = { req: ++f.req, subscriber: f.subscriber };
  switch (random.int(6)) {
    case 0:
    case 1: {
      const changes = Array.from({ length: random.between(1, 4) }, () => [
        categoryCode(random.pick(['contacts', 'mail'] as const)),
        `r${random.int(50)}`,
        random.chance(0.8) ? 0 : random.int(100),
        Date.now(),
        random.chance(0.1) ? null : random.bytes(random.int(64)),
      ]);
      return { type: 'upload', ...base, batch: f.lastBatch + 1, changes };
    }
    case 2:
      return { type: 'download', ...base, after: random.int(50), maxBytes: random.pick([1, 1024, 65536]) };
    case 3:
      return { type: 'probe', ...base, after: random.int(50) };
    case 4:
      return {
        type: 'set-categories',
        ...base,
        categories: random.pick([['contacts'], ['contacts', 'mail']]),
      };
    default:
      return {
        type: 'fetch',
        ...base,
        category: 'contacts',
        id: `r${random.int(50)}`,
        seq: random.int(50),
        offset: 0,
        length: 100,
      };
  }
}

/** One field of a valid message replaced by a value of another type, removed, or one added. */
function mutateField(random: Seeded, message: Fields): Fields {
  const out: Fields = { ...message };
  const keys = Object.keys(out);
  const key = random.pick(keys);
  switch (random.int(5)) {
    case 0:
      delete out[key];
      break;
    case 1:
      // An own property even for '__proto__' (an assignment would set the prototype instead).
      Object.defineProperty(out, random.pick(['zzz', 'terminalId', '__proto__', 'constructor']), {
        value: random.pick(ODD_VALUES),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      break;
    case 2:
      if (Array.isArray(out.changes) && out.changes.length > 0) {
        const changes = (out.changes as unknown[][]).map((c) => [...c]);
        const change = random.pick(changes);
        change[random.int(change.length + 1)] = random.pick(ODD_VALUES);
        out.changes = changes;
        break;
      }
      out[key] = random.pick(ODD_VALUES);
      break;
    default:
      out[key] = random.pick(ODD_VALUES);
  }
  return out;
}

/** A CBOR map `{type, req, subscriber, <field>: <head claiming a huge length>}` with nothing after the head. */
function hugeLength(random: Seeded, f: Fuzzer): Uint8Array {
  const prefix = encode({
    type: random.pick(['upload', 'download', 'set-categories']),
    req: ++f.req,
    subscriber: f.subscriber,
  });
  // Map of 3 entries → 4, then the key, then a head with an 8-byte length (byte string, text, array or map).
  const key = encode(random.pick(['changes', 'categories', 'x']));
  const head = [random.pick([0x5b, 0x7b, 0x9b, 0xbb]), 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00];
  return Uint8Array.from([0xa4, ...prefix.subarray(1), ...key, ...head, ...random.bytes(random.int(16))]);
}

type Kind =
  | 'field'
  | 'truncated'
  | 'bytes'
  | 'huge-length'
  | 'random'
  | 'replay'
  | 'old-batch'
  | 'other-subscriber'
  | 'valid';

interface Input {
  kind: Kind;
  payload: Uint8Array;
  message?: Fields;
}

function nextInput(random: Seeded, f: Fuzzer): Input {
  const r = random.next();
  if (r < 0.15) return { kind: 'valid', ...encoded(validRequest(random, f)) };
  if (r < 0.45) return { kind: 'field', ...encoded(mutateField(random, validRequest(random, f))) };
  if (r < 0.55) {
    const bytes = encode(validRequest(random, f));
    return { kind: 'truncated', payload: bytes.subarray(0, random.int(bytes.length)) };
  }
  if (r < 0.7) return { kind: 'bytes', payload: mutateBytes(random, encode(validRequest(random, f))) };
  if (r < 0.75) return { kind: 'huge-length', payload: hugeLength(random, f) };
  if (r < 0.8) return { kind: 'random', payload: random.bytes(random.int(200)) };
  if (r < 0.88 && f.lastUpload) return { kind: 'replay', ...encoded({ ...f.lastUpload, req: ++f.req }) };
  if (r < 0.93 && f.lastBatch > 1) {
    const message = {
      ...validRequest(random, f),
      type: 'upload',
      batch: random.int(f.lastBatch - 1),
      changes: [],
    };
    return { kind: 'old-batch', ...encoded(message) };
  }
  const other = random.pick([subscriberOf((f.index + 1) % FUZZERS), HEALTHY_SUBSCRIBER]);
  return { kind: 'other-subscriber', ...encoded({ ...validRequest(random, f), subscriber: other }) };
}

function encoded(message: Fields): { payload: Uint8Array; message: Fields } {
  return { payload: encode(message), message };
}

/** What the server holds of a subscriber and its one terminal: an error must leave it as it was. */
async function fingerprint(store: SyncStore, subscriber: string, terminalId: string): Promise<string> {
  const t = await store.getTerminal(terminalId);
  return JSON.stringify([await store.latestSeq(subscriber), t?.lastBatch, t?.categories, t?.filters]);
}

export interface BrokerFuzzResult extends FuzzResult {
  byKind: Record<string, number>;
  healthyChecks: number;
  /** Largest heap seen after a collection, bytes. */
  peakHeapBytes: number;
}

/**
 * Issue 21 fuzzing: the broker's sync handler through real MQTT connections
 * to an in-process server (SQLite in memory): valid requests, valid ones
 * with one field mutated (wrong type, removed, added), truncated, bytes
 * mutated, CBOR heads claiming huge lengths, random bytes, replayed batch
 * ids, old batch ids, other subscribers' IDs, and publishes on another
 * terminal's topic. Every payload must be answered with a valid reply; an
 * error reply must leave the subscriber's store as it was; a replayed batch
 * is answered with its ack and not applied again; a request naming another
 * subscriber is refused; a well-behaved terminal of another subscriber keeps
 * syncing within HEALTHY_MS throughout; heap stays bounded.
 */
export async function fuzzBroker(options: FuzzOptions & { server?: SyncServer }): Promise<BrokerFuzzResult> {
  const random = new Seeded(options.seed);
  const result: BrokerFuzzResult = {
    ...newResult('broker-sync', options.seed),
    byKind: {},
    healthyChecks: 0,
    peakHeapBytes: 0,
  };
  const server =
    options.server ??
    (await startSyncServer({
      store: openSqliteStore(':memory:'),
      host: '127.0.0.1',
      port: 0,
      attemptLimits: { freeFailures: 1000, lockoutAfter: 10_000 },
    }));
  const port = server.port as number;
  const fuzzers: Fuzzer[] = [];
  const clients: FuzzClient[] = [];
  try {
    for (let i = 0; i < FUZZERS; i++) {
      const subscriber = subscriberOf(i);
      const terminalId = `fuzz-${i}`;
      const client = await FuzzClient.open(
        port,
        terminalId,
        await registerVia(server, terminalId, subscriber),
      );
      clients.push(client);
      fuzzers.push({ client, index: i, subscriber, lastBatch: 0, lastUpload: undefined, req: 0 });
    }
    const healthy = await FuzzClient.open(
      port,
      'healthy',
      await registerVia(server, 'healthy', HEALTHY_SUBSCRIBER),
    );
    clients.push(healthy);
    const heapBefore = heapAfterGc();
    const intrusions: string[] = [];
    let healthyBatch = 0;
    let index = 0;
    const perFuzzer = Math.ceil(options.count / FUZZERS);
    const run = async (f: Fuzzer) => {
      for (let n = 0; n < perFuzzer && index < options.count; n++) {
        const i = index++;
        await one(f, i);
      }
    };
    const one = async (f: Fuzzer, i: number) => {
      const terminalId = f.client.terminalId;
      const input = random.chance(0.005) ? undefined : nextInput(random, f);
      result.inputs++;
      if (input === undefined) {
        // Another terminal's topic: Aedes refuses the publish by closing the connection; nothing is applied.
        const v = (f.index + 1 + random.int(FUZZERS)) % (FUZZERS + 1);
        const [victim, victimSubscriber] =
          v === FUZZERS ? ['healthy', HEALTHY_SUBSCRIBER] : [`fuzz-${v}`, subscriberOf(v)];
        result.byKind['other-terminal'] = (result.byKind['other-terminal'] ?? 0) + 1;
        const intrusion = encodeRequest({
          type: 'upload',
          req: 1,
          subscriber: victimSubscriber,
          batch: 0x7fff_0000 + i,
          changes: [[categoryCode('contacts'), `intruder-${i}`, 0, Date.now(), Uint8Array.of(1)]],
        } as Request);
        await f.client
          .intrude(upTopic(victim), intrusion)
          .catch((e: unknown) => crash(result, i, `publish on ${victim}'s topic`, e));
        await f.client.reopen();
        intrusions.push(victimSubscriber);
        result.refused++;
        return;
      }
      result.byKind[input.kind] = (result.byKind[input.kind] ?? 0) + 1;
      const before = await fingerprint(server.store, f.subscriber, terminalId);
      let reply: Reply;
      try {
        reply = await f.client.send(input.payload);
      } catch (e) {
        crash(result, i, `${input.kind} ${hex(input.payload)}`, e);
        if (!f.client.connected) await f.client.reopen();
        return;
      }
      const after = await fingerprint(server.store, f.subscriber, terminalId);
      const what = `${input.kind} ${hex(input.payload)}`;
      if (reply.type === 'error') {
        result.refused++;
        if (after !== before)
          crash(result, i, what, `refused (${reply.code}) but the store changed: ${before} → ${after}`);
        return;
      }
      result.accepted++;
      if (input.kind === 'other-subscriber')
        crash(result, i, what, `a request for another subscriber was answered ${reply.type}`);
      if (input.kind === 'replay' && (reply.type !== 'upload-ack' || after !== before))
        crash(
          result,
          i,
          what,
          `a replayed batch was answered ${reply.type} or applied again: ${before} → ${after}`,
        );
      if (reply.type === 'upload-ack' && input.message && reply.batch === f.lastBatch + 1) {
        f.lastBatch = reply.batch;
        f.lastUpload = input.message;
      }
    };
    const check = async () => {
      // A well-behaved terminal of another subscriber syncs while the fuzzers run.
      const started = performance.now();
      const batch = ++healthyBatch;
      const ack = await healthy.send(
        encodeRequest({
          type: 'upload',
          req: batch,
          subscriber: HEALTHY_SUBSCRIBER,
          batch,
          changes: [[categoryCode('contacts'), `h${batch}`, 0, Date.now(), Uint8Array.of(batch & 0xff)]],
        } as Request),
      );
      const log = await server.store.changeLog(HEALTHY_SUBSCRIBER, 0, 1_000_000);
      const ms = performance.now() - started;
      if (
        ack.type !== 'upload-ack' ||
        log.length !== batch ||
        log.at(-1)?.recordId !== `h${batch}` ||
        ms > HEALTHY_MS
      )
        crash(
          result,
          index,
          `healthy upload ${batch}`,
          `answered ${ack.type} in ${ms.toFixed(0)} ms, log ${log.length}`,
        );
      result.healthyChecks++;
      result.peakHeapBytes = Math.max(result.peakHeapBytes, process.memoryUsage().heapUsed);
    };
    const workers = fuzzers.map(run);
    const health = (async () => {
      let last = 0;
      while (index < options.count) {
        if (index - last >= HEALTH_EVERY) {
          last = index;
          await check();
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await check();
    })();
    await Promise.all([...workers, health]);
    for (const subscriber of new Set(intrusions)) {
      const log = await server.store.changeLog(subscriber, 0, 1_000_000);
      for (const e of log.filter((e) => e.recordId.startsWith('intruder-')))
        crash(result, -1, `publish on another terminal's topic`, `applied to ${subscriber}: ${e.recordId}`);
    }
    for (const c of clients)
      for (const bad of c.badReplies) crash(result, -1, 'reply', `not a valid reply: ${bad}`);
    result.heapGrowthBytes = heapAfterGc() - heapBefore;
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    if (!options.server) {
      await server.close();
      await server.store.close();
    }
  }
  return result;
}
