import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Category, TerminalOptions } from '../core/index.js';
import { SystemClock } from '../hal-linux/index.js';
import { photoBytes } from '../test/support/photo.js';
import { type BrokerChild, rawCopy, spawnBroker } from './broker-child.js';
import { type BenchTerminal, body, imsi, shopTerminal, vcard } from './fixtures.js';
import { type BenchResult, machine, median, printResult, type Row } from './report.js';

/**
 * Issue 8 §3: a fresh terminal's first sync from the sync server in its own
 * process (SQLite file store) over loopback TCP: 10,000 contacts (vCards),
 * and separately an archive that comes down as stubs ([0094]) whose
 * substance is then fetched on access, item by item. Each time is divided
 * by a raw TCP copy of the same number of bytes on loopback (a bare server
 * process writing them, this process reading them) in the same run. The
 * archive's bytes are photo-like (already compressed media: noise to
 * deflate) unless `compressible`, which gives the templated bytes earlier
 * runs used (deflate shrinks them ~150:1, so compression's CPU is measured
 * too).
 */
export interface FirstSyncOptions {
  contacts?: number;
  /** Archive bytes, in items of `itemBytes`. */
  archiveBytes?: number;
  itemBytes?: number;
  /** Fetch chunk sizes to try (the terminal's `lazy.chunkBytes`); the first is the default. */
  chunks?: number[] | number;
  /** Templated archive bytes that deflate shrinks, instead of photo-like noise. */
  compressible?: boolean;
  timeoutMs?: number;
}

export const quick: FirstSyncOptions = { contacts: 1_000, archiveBytes: 5_000_000 };

const KIB = 1024;

interface Seeded {
  contacts: number;
  contactBytes: number;
  archiveIds: string[];
  archiveBytes: number;
}

async function seed(t: BenchTerminal, o: Required<FirstSyncOptions>): Promise<Seeded> {
  let contactBytes = 0;
  // The user's data, entered with the SIM in (Terminal's edit checks), then the first sync.
  t.reader.insert(t.card);
  const data = await t.terminal.personalData('write');
  for (let i = 0; i < o.contacts; i++) {
    const card = vcard(i);
    contactBytes += card.length;
    await data.edit('contacts', `c${i}`, card);
  }
  const archiveIds: string[] = [];
  for (let at = 0, i = 0; at < o.archiveBytes; at += o.itemBytes, i++) {
    const size = Math.min(o.itemBytes, o.archiveBytes - at);
    archiveIds.push(`a${i}`);
    const bytes = o.compressible ? body(i, size) : photoBytes(size, i);
    await data.edit('archive', `a${i}`, bytes, { title: `photo-${i}.jpg` });
  }
  const report = await t.terminal.mount();
  t.reader.remove();
  await t.terminal.demount();
  if (report?.uploaded.length !== o.contacts + archiveIds.length)
    throw new Error('seeding upload incomplete');
  return { contacts: o.contacts, contactBytes, archiveIds, archiveBytes: o.archiveBytes };
}

async function rawMs(raw: BrokerChild, bytes: number, timeoutMs: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) runs.push(await rawCopy(raw.port, bytes, timeoutMs));
  return median(runs);
}

export async function run(options: FirstSyncOptions = {}): Promise<BenchResult> {
  const o: Required<FirstSyncOptions> & { chunks: number[] } = {
    contacts: options.contacts ?? 10_000,
    archiveBytes: options.archiveBytes ?? 200_000_000,
    itemBytes: options.itemBytes ?? 1_000_000,
    // `--chunks 65536` gives a number, `--chunks 65536,1048576` a list.
    chunks: [options.chunks ?? [64 * KIB, 1024 * KIB]].flat(),
    compressible: options.compressible ?? false,
    timeoutMs: options.timeoutMs ?? 300_000,
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'simsync-first-sync-'));
  const broker = await spawnBroker('sync', { data: path.join(dir, 'sync.db'), timeoutMs: o.timeoutMs });
  const raw = await spawnBroker('raw', { timeoutMs: o.timeoutMs });
  const clock = new SystemClock();
  const terminals: BenchTerminal[] = [];
  const names = ['fs-seed', 'fs-contacts', ...o.chunks.map((c) => `fs-archive-${c}`)];
  const fresh = async (i: number, categories: Category[], code: string, options?: TerminalOptions) => {
    const t = await shopTerminal({
      port: broker.port,
      clock,
      terminalId: names[i] as string,
      subscriber: 0,
      code,
      categories,
      timeoutMs: o.timeoutMs,
      ...(options ? { options } : {}),
    });
    terminals.push(t);
    return t;
  };
  const rows: Row[] = [];
  try {
    const codes = await broker.shop(imsi(0), names, ['contacts', 'archive']);
    const seeder = await fresh(0, ['contacts', 'archive'], codes[0] as string);
    const seeded = await seed(seeder, o);
    await seeder.terminal.stop();
    terminals.splice(0);

    // Contacts: the whole first sync, SIM in to records stored.
    const c = await fresh(1, ['contacts'], codes[1] as string);
    let started = performance.now();
    c.reader.insert(c.card);
    const got = await c.terminal.mount();
    const contactsMs = performance.now() - started;
    c.reader.remove();
    await c.terminal.demount();
    if (got?.downloaded.length !== seeded.contacts) throw new Error('contacts first sync incomplete');
    const contactsRaw = await rawMs(raw, seeded.contactBytes, o.timeoutMs);
    rows.push({
      data: `${seeded.contacts} contacts`,
      phase: 'first sync',
      bytes: seeded.contactBytes,
      ms: Math.round(contactsMs),
      mb_per_s: Number((seeded.contactBytes / 1000 / contactsMs).toFixed(1)),
      raw_tcp_ms: Number(contactsRaw.toFixed(1)),
      vs_raw_tcp: Number((contactsMs / contactsRaw).toFixed(1)),
    });
    await c.terminal.stop();

    // Archive: stubs first, then every item's substance on access.
    const archiveRaw = await rawMs(raw, seeded.archiveBytes, o.timeoutMs);
    for (const [i, chunkBytes] of o.chunks.entries()) {
      const a = await fresh(2 + i, ['archive'], codes[2 + i] as string, {
        lazy: { aboveBytes: 64 * KIB, categories: ['archive'], chunkBytes },
      });
      started = performance.now();
      a.reader.insert(a.card);
      const stubs = await a.terminal.mount();
      const stubsMs = performance.now() - started;
      if (stubs?.downloaded.some((d) => d.stub === undefined) !== false)
        throw new Error('archive did not come as stubs');
      started = performance.now();
      let fetched = 0;
      for (const id of seeded.archiveIds)
        fetched += (await a.terminal.open('archive', id))?.body?.length ?? 0;
      const substanceMs = performance.now() - started;
      a.reader.remove();
      await a.terminal.demount();
      if (fetched !== seeded.archiveBytes)
        throw new Error(`fetched ${fetched} of ${seeded.archiveBytes} bytes`);
      const kind = o.compressible ? 'templated' : 'photo-like';
      const label = `${seeded.archiveBytes / 1e6} MB ${kind} archive, ${seeded.archiveIds.length} items, chunk ${chunkBytes / KIB} KiB`;
      rows.push({
        data: label,
        phase: 'stubs',
        bytes: 0,
        ms: Math.round(stubsMs),
        mb_per_s: 0,
        raw_tcp_ms: 0,
        vs_raw_tcp: 0,
      });
      rows.push({
        data: label,
        phase: 'substance',
        bytes: seeded.archiveBytes,
        ms: Math.round(substanceMs),
        mb_per_s: Number((seeded.archiveBytes / 1000 / substanceMs).toFixed(1)),
        raw_tcp_ms: Number(archiveRaw.toFixed(1)),
        vs_raw_tcp: Number((substanceMs / archiveRaw).toFixed(1)),
      });
      await a.terminal.stop();
      terminals.splice(0);
    }
  } finally {
    for (const t of terminals) await t.terminal.stop().catch(() => {});
    await broker.close();
    await raw.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const substance = rows.filter((r) => r.phase === 'substance');
  return {
    bench: 'first-sync',
    startedAt: new Date().toISOString(),
    machine: machine(),
    parameters: { ...o, rawTcp: 'median of 3 copies of the same byte count, server in its own process' },
    rows,
    targets: Object.fromEntries(
      substance.map((r) => [`bulk substance within 3x of raw TCP (${r.data})`, Number(r.vs_raw_tcp) <= 3]),
    ),
  };
}

export const print = printResult;
