import { afterEach, beforeEach, vi } from 'vitest';
import { AkaVault, newServerKey, parseKeyring } from '../../broker/index.js';
import { KeyringAgent, type SimTerminal, SimWorld, type SimWorldOptions } from '../../cli/sim-world.js';
import {
  CATEGORIES,
  type Category,
  type PolicyName,
  type SyncReport,
  Terminal,
  type TerminalOptions,
} from '../../core/index.js';
import type { Battery, ByteStream, Clock, IdleSensor, RadioLink } from '../../hal/index.js';
import { SimCardReader, SimNvStore } from '../../hal-sim/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { AKA_KEYS } from '../support/aka-keys.js';
import { worldOptions } from '../support/backend.js';
import { ICCID, IMSI, LOGIN, TERMINAL_PASSWORD } from './world.js';

/** Helpers that build the end-to-end scenes: the server with the subscriber, registered terminals, what they report. */

export const KEYRING = { pin: '1234', terminalPassword: TERMINAL_PASSWORD };

/**
 * A server with the subscriber on it (IMSI, ICCID, LOGIN) and the user's SIM.
 * With `aka` the server also holds the SIM's K and OPc (TS 35.208 Test Set 1)
 * under a fresh vault key, and every session starts with the card answering
 * its challenge (issue 19).
 */
export async function subscriberWorld(
  options: SimWorldOptions = {},
  how: { aka?: boolean } = {},
): Promise<{ world: SimWorld; sim: VirtualUicc }> {
  const akaVault = how.aka
    ? new AkaVault(parseKeyring(JSON.stringify({ current: 'k1', keys: { k1: newServerKey() } })))
    : undefined;
  const world = await SimWorld.start(akaVault ? { ...options, akaVault } : options);
  await world.server.admin.addSubscriber({ subscriber: IMSI, iccid: ICCID, loginPassword: LOGIN });
  if (!how.aka) return { world, sim: SimWorld.sim() };
  await world.server.admin.setAkaKey({ subscriber: IMSI, ...AKA_KEYS });
  return { world, sim: SimWorld.sim(AKA_KEYS) };
}

/**
 * A terminal's first set-up as the user makes it (FIG. 8 with 10-A, or 11-A):
 * `sim` in its reader, a terminal password, the login password and the
 * categories (all by default), then the SIM out again.
 */
export async function registerWithSim(
  world: SimWorld,
  t: SimTerminal,
  sim: VirtualUicc,
  how: { policy?: PolicyName; categories?: Category[] } = {},
): Promise<void> {
  t.reader.insert(sim);
  await world.register(t, {
    policy: how.policy ?? 'fig10-subscriber-binding',
    loginPassword: LOGIN,
    terminalPassword: TERMINAL_PASSWORD,
    categories: how.categories ?? [...CATEGORIES],
  });
  t.reader.remove();
}

/**
 * A simulated terminal (SimWorld's reader and NV store) with the user's
 * keyring, registered with `sim` (`registerWithSim`), then following its
 * reader: each insertion a mount sync, each removal a demount (FIG. 16).
 */
export async function registeredTerminal(
  world: SimWorld,
  sim: VirtualUicc,
  name: string,
  how: { policy?: PolicyName; options?: TerminalOptions } = {},
): Promise<SimTerminal> {
  const t = await world.addTerminal(name, new KeyringAgent({ ...KEYRING }), how.options);
  await registerWithSim(world, t, sim, how);
  t.terminal.start();
  return t;
}

/**
 * Resolves with `terminal`'s next report of `trigger`, for readers that
 * announce the card asynchronously (pcscd polls, a modem sends a URC);
 * rejects after 10 s.
 */
export function nextReport(terminal: Terminal, trigger: SyncReport['trigger']): Promise<SyncReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${trigger} report`)), 10_000);
    const off = terminal.onReport((r) => {
      if (r.trigger !== trigger) return;
      clearTimeout(timer);
      off();
      resolve(r);
    });
  });
}

/** The record IDs a sync report says came down or went up, sorted. */
export const ids = (report: SyncReport, key: 'downloaded' | 'uploaded') =>
  report[key].map((c) => c.id).sort();

export interface Scene {
  world: SimWorld;
  sim: VirtualUicc;
  own: Terminal[];
}

/** A world with the subscriber added; `clock` (a VirtualClock) puts its server and terminals on virtual time. */
export async function scene(options: { clock?: Clock } = {}): Promise<Scene> {
  const { world, sim } = await subscriberWorld(await worldOptions(options));
  return { world, sim, own: [] };
}

export async function closeScene(s: Scene): Promise<void> {
  for (const t of s.own) await t.stop();
  await s.world.close();
}

/**
 * A fresh scene for every test of the file that calls it: made before each
 * test, closed after it. The object stays the same; its fields are the
 * running test's.
 */
export function sceneEachTest(options: { clock?: Clock } = {}): Scene {
  const s = {} as Scene;
  beforeEach(async () => {
    Object.assign(s, await scene(options));
  });
  afterEach(async () => {
    await closeScene(s);
  });
  return s;
}

export type Member = SimTerminal & { agent: KeyringAgent; reports: SyncReport[] };

/**
 * A terminal registered (FIG. 8 + 10-A, or 11-A) with the SIM, then the SIM
 * taken out. With `battery` or `idle` the terminal is built here (SimWorld's
 * terminals have neither).
 */
export async function member(
  s: Scene,
  name: string,
  how: {
    categories?: Category[];
    policy?: PolicyName;
    options?: TerminalOptions;
    battery?: Battery;
    idle?: IdleSensor;
    clock?: Clock;
    nv?: SimNvStore;
    link?: RadioLink;
    /** Register with this card instead of the scene's SIM (a twin SIM of the same subscription). */
    card?: VirtualUicc;
  } = {},
): Promise<Member> {
  const agent = new KeyringAgent({ ...KEYRING });
  let t: SimTerminal;
  if (how.battery || how.idle || how.clock) {
    const reader = new SimCardReader({ name: `${name}-reader` });
    const nv = how.nv ?? new SimNvStore();
    const terminal = await Terminal.create(
      {
        reader,
        nv,
        link: how.link ?? s.world.link(),
        clock: how.clock ?? s.world.clock,
        agent,
        ...(how.battery ? { battery: how.battery } : {}),
        ...(how.idle ? { idle: how.idle } : {}),
      },
      { timeoutMs: 5000, ...how.options },
    );
    s.own.push(terminal);
    t = { name, terminal, reader, nv, agent };
  } else {
    t = await s.world.addTerminal(name, agent, {
      ...how.options,
      ...(how.nv ? { nv: how.nv } : {}),
      ...(how.link ? { link: how.link } : {}),
    });
  }
  await registerWithSim(s.world, t, how.card ?? s.sim, how);
  const reports: SyncReport[] = [];
  t.terminal.onReport((r) => reports.push(r));
  return { ...t, agent, reports };
}

/**
 * The user's SIM in the terminal while `fn` runs, then out again: how a user
 * edits (Terminal.edit with the SIM in, under the registered policy), and
 * what `syncWithSim` does around a sync.
 */
export async function withSim<T>(s: Scene, t: SimTerminal, fn: () => Promise<T>): Promise<T> {
  t.reader.insert(s.sim);
  try {
    return await fn();
  } finally {
    t.reader.remove();
  }
}

/** A user sync with the SIM in, then the SIM out. */
export function syncWithSim(s: Scene, t: SimTerminal): Promise<SyncReport> {
  return withSim(s, t, () => t.terminal.sync());
}

/** Waits (real time) until `done()` holds, or fails after `ms` naming `what` (vitest's waitFor underneath). */
export async function until(done: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await done())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: ms, interval: 10 },
  );
}

/** A test's radio link around a real one: state as the inner link has it; `open` is the fault the test adds. */
export abstract class WrappedLink implements RadioLink {
  constructor(protected readonly inner: RadioLink) {}

  state() {
    return this.inner.state();
  }

  onState(listener: Parameters<RadioLink['onState']>[0]) {
    return this.inner.onState(listener);
  }

  abstract open(): Promise<ByteStream>;
}

/** A radio link whose current stream can be made to break after some more received bytes. */
export class DroppingLink extends WrappedLink {
  private arm: ((bytes: number) => void) | undefined;

  async open(): Promise<ByteStream> {
    const stream = await this.inner.open();
    let left = Number.POSITIVE_INFINITY;
    this.arm = (bytes) => {
      left = bytes;
    };
    return {
      write: (bytes) => stream.write(bytes),
      onData: (listener) =>
        stream.onData((bytes) => {
          if (left <= 0) return;
          left -= bytes.length;
          listener(bytes);
          if (left <= 0) stream.close();
        }),
      onClose: (listener) => stream.onClose(listener),
      close: () => stream.close(),
    };
  }

  /** The open stream breaks once `bytes` more have arrived. */
  dropAfter(bytes: number): void {
    this.arm?.(bytes);
  }
}
