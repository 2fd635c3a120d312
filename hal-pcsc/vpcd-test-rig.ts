import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';
import { isHalError } from '../hal/index.js';
import { VirtualUicc, type VirtualUiccProfile } from '../uicc/index.js';
import { openPcscReader } from './open-reader.js';
import type { PcscCardReader, PcscReaderOptions } from './pcsc-card-reader.js';
import { PcscContext } from './pcsc-context.js';
import type { PcscSimCard } from './pcsc-sim-card.js';
import { type VirtualChip, VPCD_DEFAULT_PORT, VpcdCard, type VpcdCardOptions } from './vpcd-card.js';

/**
 * Test support (used by hal-pcsc's tests, test/e2e and cli/): the two virtual readers vsmartcard-vpcd gives pcscd are
 * shared by every test process on the machine, so a test file claims one
 * (a lock file per port, stale locks of dead processes taken over) before
 * putting cards in it. Tests never skip: without pcscd they fail with the
 * way to fix it.
 */
export interface VpcdSlot {
  /** TCP port the virtual card connects to. */
  port: number;
  /** The PC/SC reader that port feeds, e.g. "Virtual PCD 00 00". */
  readerName: string;
  release(): void;
}

export const PCSCD_SETUP_HINT =
  'the PC/SC tests need a running pcscd with vsmartcard-vpcd loaded: run `bash scripts/pcsc-setup.sh` as root ' +
  '(installs pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools if missing and starts pcscd)';

/** vpcd's readers in port order: "Virtual PCD 00 00" ↔ 35963, "Virtual PCD 00 01" ↔ 35964. */
export async function vpcdReaders(): Promise<string[]> {
  let context: PcscContext;
  try {
    context = await PcscContext.open();
  } catch (e) {
    const why = isHalError(e) ? e.message : String(e);
    throw new Error(`${PCSCD_SETUP_HINT}. pcscd said: ${why}`);
  }
  const names = context.readerNames().filter((n) => n.startsWith('Virtual PCD'));
  await context.close();
  if (names.length === 0) {
    throw new Error(
      `${PCSCD_SETUP_HINT}. pcscd runs but lists no "Virtual PCD" reader: it was started before vsmartcard-vpcd ` +
        'was installed (the setup script restarts it)',
    );
  }
  return names.sort();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
  if (Number.isInteger(owner) && alive(owner)) return false;
  try {
    unlinkSync(path);
  } catch {
    // Another process took the stale lock over first; try again next round.
  }
  return false;
}

/** Claims a free virtual reader, waiting up to `timeoutMs` while other test files hold both. */
export async function claimVpcdSlot(timeoutMs = 120_000): Promise<VpcdSlot> {
  const readers = await vpcdReaders();
  return vi.waitFor(
    () => {
      for (const [index, readerName] of readers.entries()) {
        const port = VPCD_DEFAULT_PORT + index;
        const path = join(tmpdir(), `simsync-vpcd-${port}.lock`);
        if (tryLock(path)) return { port, readerName, release: () => unlock(path) };
      }
      throw new Error(`both vpcd readers stayed claimed for ${timeoutMs} ms`);
    },
    { timeout: timeoutMs, interval: 100 },
  );
}

function unlock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}

/**
 * Where test cards connect to vpcd. Any 127/8 address reaches it; this one
 * gets a loopback route with `quickack` from scripts/pcsc-setup.sh, because
 * Debian's vpcd writes each frame's length and payload separately, and with
 * Nagle on its side and delayed ACKs on ours every APDU would wait ~40 ms.
 */
export const TEST_VPCD_HOST = '127.0.0.2';

/** Profile of the cards tests insert; every field can be overridden. */
export const TEST_CARD: VirtualUiccProfile = {
  iccid: '8988211000000430010',
  imsi: '001010000000102',
  pin: '1234',
  puk: '12345678',
};

/**
 * A claimed virtual reader with a PcscCardReader on it: `insert` puts a
 * VirtualUicc in through vpcd and waits until pcscd reports it, `reset`
 * (afterEach) closes what a test opened and empties the reader.
 */
export class VpcdRig {
  card: VpcdCard | undefined;
  uicc: VirtualUicc | undefined;
  readonly #sessions: PcscSimCard[] = [];

  private constructor(
    readonly slot: VpcdSlot,
    readonly reader: PcscCardReader,
  ) {}

  static async start(options: PcscReaderOptions = {}): Promise<VpcdRig> {
    const slot = await claimVpcdSlot();
    try {
      return new VpcdRig(slot, await openPcscReader({ ...options, reader: slot.readerName }));
    } catch (e) {
      slot.release();
      throw e;
    }
  }

  /** Inserts a fresh card and waits until the reader reports it. */
  async insert(profile: Partial<VirtualUiccProfile> = {}, options: Omit<VpcdCardOptions, 'port'> = {}) {
    this.uicc = new VirtualUicc({ ...TEST_CARD, ...profile });
    return { card: await this.insertCard(this.uicc, options), uicc: this.uicc };
  }

  /** Puts an existing card (e.g. a SIM moving between terminals) in and waits until the reader reports it. */
  async insertCard(uicc: VirtualChip, options: Omit<VpcdCardOptions, 'port'> = {}): Promise<VpcdCard> {
    this.card = await VpcdCard.insert(uicc, { host: TEST_VPCD_HOST, ...options, port: this.slot.port });
    await waitUntil(() => this.reader.present(), 'the card to show in the reader');
    return this.card;
  }

  /** Inserts a card and opens a session on it. */
  async open(profile: Partial<VirtualUiccProfile> = {}, options: Omit<VpcdCardOptions, 'port'> = {}) {
    await this.insert(profile, options);
    return this.track(await this.reader.open());
  }

  /** Closes `session` at `reset()`. */
  track(session: PcscSimCard): PcscSimCard {
    this.#sessions.push(session);
    return session;
  }

  /** Takes the card out and waits until the reader reports it gone. */
  async remove(): Promise<void> {
    await this.card?.remove();
    this.card = undefined;
    await waitUntil(() => !this.reader.present(), 'the card to leave the reader');
  }

  async reset(): Promise<void> {
    for (const s of this.#sessions.splice(0)) await s.close().catch(() => {});
    await this.remove();
  }

  /** Empties the reader, stops following it and releases the slot (even if emptying failed). */
  async stop(): Promise<void> {
    try {
      await this.reset();
    } finally {
      await this.reader.close();
      this.slot.release();
    }
  }
}

/**
 * A rig for each test of the file that calls it, claimed before the test and
 * stopped after it: per test, not per file, so test files running in
 * parallel take turns on the two readers. Returns the running test's rig.
 */
export function rigPerTest(options: PcscReaderOptions = {}): () => VpcdRig {
  let rig: VpcdRig | undefined;
  beforeEach(async () => {
    rig = await VpcdRig.start(options);
  });
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });
  return () => {
    if (rig === undefined) throw new Error('no VpcdRig outside a test');
    return rig;
  };
}

/** Waits until `condition` holds, trying every 5 ms; rejects after `timeoutMs` (pcscd polls cards every ~400 ms). */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 5 },
  );
}
