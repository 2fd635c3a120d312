import { afterEach, beforeEach, vi } from 'vitest';
import { KeyringAgent, type SimTerminal, type SimWorld } from '../../cli/sim-world.js';
import {
  type Category,
  type PolicyName,
  type SyncReport,
  Terminal,
  type TerminalOptions,
} from '../../core/index.js';
import type { Battery, ByteStream, Clock, IdleSensor, RadioLink } from '../../hal/index.js';
import { SimCardReader, SimNvStore } from '../../hal-sim/index.js';
import type { VirtualUicc } from '../../uicc/index.js';
import { worldOptions } from '../support/backend.js';
import { registerWithSim, subscriberWorld, TERMINAL_PASSWORD } from './world.js';

/** Helpers for the trigger, selection, erase and lazy-download tests (the real server over in-memory links, simulated terminals). */

export const KEYRING = { pin: '1234', terminalPassword: TERMINAL_PASSWORD };

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
