import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdleState } from '../hal/index.js';
import { VirtualClock } from '../hal-sim/index.js';
import { BUSY, describeIdleSensorContract } from '../test/contracts/idle-sensor.contract.js';
import { waitFor } from '../test/contracts/wait.js';
import { combinedIdleSource, interruptsIdleSource, ttyIdleSource, xprintidleSource } from './input-idle.js';
import { LinuxIdleSensor } from './linux-idle-sensor.js';

describeIdleSensorContract(
  'LinuxIdleSensor (input source, ACPI lid file, foreground predicate)',
  async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'simsync-idle-'));
    const clock = new VirtualClock();
    let now: IdleState = BUSY;
    const sensor = new LinuxIdleSensor({
      clock,
      inputIdle: async () => now.msSinceInput,
      lidRoot: root,
      noForegroundWork: () => now.noForegroundWork,
      pollMs: 1000,
    });
    // The clock's beat starts a poll; polls run one at a time, so the next one ends after it.
    const settle = async () => {
      await clock.advance(1000);
      await sensor.poll();
    };
    const lid = async (closed: boolean) => {
      await mkdir(path.join(root, 'LID0'), { recursive: true });
      await writeFile(path.join(root, 'LID0', 'state'), `state:      ${closed ? 'closed' : 'open'}\n`);
    };
    await lid(false);
    return {
      sensor,
      set: async (state) => {
        now = state;
        await lid(state.lidClosed);
        await settle();
      },
      settle,
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
);

describe('LinuxIdleSensor', () => {
  let root: string;
  let clock: VirtualClock;
  let idleMs: number;
  let foreground: boolean;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'simsync-idle-'));
    clock = new VirtualClock();
    idleMs = 0;
    foreground = false;
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const lid = async (state: 'open' | 'closed') => {
    await mkdir(path.join(root, 'lid', 'LID0'), { recursive: true });
    await writeFile(path.join(root, 'lid', 'LID0', 'state'), `state:      ${state}\n`);
  };

  const sensor = () =>
    new LinuxIdleSensor({
      clock,
      inputIdle: async () => idleMs,
      lidRoot: path.join(root, 'lid'),
      noForegroundWork: () => !foreground,
      pollMs: 1000,
    });

  it('[0081]: reports idle time, lid and foreground work from its sources', async () => {
    await lid('open');
    idleMs = 42_000;
    foreground = true;
    expect(await sensor().read()).toEqual({
      noForegroundWork: false,
      msSinceInput: 42_000,
      lidClosed: false,
    });
    await lid('closed');
    foreground = false;
    expect(await sensor().read()).toEqual({ noForegroundWork: true, msSinceInput: 42_000, lidClosed: true });
  });

  it('poll() with nobody listening keeps no baseline: the first listener hears only later changes', async () => {
    await lid('open');
    const idle = sensor();
    await idle.poll();
    idleMs = 90_000;
    const heard: IdleState[] = [];
    const stop = idle.onChange((s) => heard.push(s));
    await idle.poll();
    expect(heard).toEqual([]);
    idleMs = 95_000;
    await idle.poll();
    expect(heard.map((s) => s.msSinceInput)).toEqual([95_000]);
    stop();
  });

  it('no lid (a desktop or a Pi) is never closed; the default predicate says no foreground work', async () => {
    const plain = new LinuxIdleSensor({ clock, inputIdle: async () => 5, lidRoot: path.join(root, 'none') });
    expect(await plain.read()).toEqual({ noForegroundWork: true, msSinceInput: 5, lidClosed: false });
  });

  it('a failing input source reads as busy, never as idle', async () => {
    const failing = new LinuxIdleSensor({
      clock,
      inputIdle: () => Promise.reject(new Error('no source')),
      lidRoot: root,
    });
    expect((await failing.read()).msSinceInput).toBe(0);
  });

  it('FIG. 21: onChange fires on each change (input, lid, work), not when nothing changed', async () => {
    await lid('open');
    const idle = sensor();
    const heard: IdleState[] = [];
    const stop = idle.onChange((s) => heard.push(s));
    await idle.poll();
    await idle.poll();
    expect(heard).toEqual([]);
    idleMs = 60_000;
    await idle.poll();
    await lid('closed');
    await idle.poll();
    foreground = true;
    await idle.poll();
    idleMs = 0;
    await idle.poll();
    expect(heard).toEqual([
      { noForegroundWork: true, msSinceInput: 60_000, lidClosed: false },
      { noForegroundWork: true, msSinceInput: 60_000, lidClosed: true },
      { noForegroundWork: false, msSinceInput: 60_000, lidClosed: true },
      { noForegroundWork: false, msSinceInput: 0, lidClosed: true },
    ]);
    stop();
  });

  it('polls on the clock while it has listeners and stops when the last leaves', async () => {
    const idle = sensor();
    const heard: IdleState[] = [];
    const stop = idle.onChange((s) => heard.push(s));
    await idle.poll();
    idleMs = 1000;
    await clock.advance(1000);
    await waitFor(() => heard.length === 1, { what: 'clock-driven change' });
    stop();
    expect(clock.pending()).toBe(0);
  });
});

describe('input idle sources', () => {
  let root: string;
  let clock: VirtualClock;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'simsync-input-'));
    clock = new VirtualClock({ start: Date.now() });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('tty: the newest atime among /dev/tty<N> and /dev/pts/<N>, as `w` computes IDLE', async () => {
    await mkdir(path.join(root, 'pts'));
    const now = clock.now();
    const touch = async (name: string, agoMs: number) => {
      await writeFile(path.join(root, name), '');
      const at = (now - agoMs) / 1000;
      await utimes(path.join(root, name), at, at);
    };
    await touch('tty1', 600_000);
    await touch('pts/0', 90_000);
    await touch('ttyS0', 1_000);
    await touch('pts/ptmx', 1_000);
    expect(await ttyIdleSource(clock, root)()).toBeCloseTo(90_000, -2);
    await expect(ttyIdleSource(clock, path.join(root, 'pts'))()).rejects.toThrow();
  });

  it('/proc/interrupts: idle time restarts when an input controller count moves', async () => {
    const file = path.join(root, 'interrupts');
    const table = (keyboard: number, disk: number) =>
      [
        '            CPU0       CPU1',
        `   1:  ${keyboard}       3   IR-IO-APIC    1-edge      i8042`,
        `  16:  ${disk}  ${disk}   IR-IO-APIC   16-fasteoi   ahci[0000:00:17.0]`,
        'NMI:          0          0   Non-maskable interrupts',
      ].join('\n');
    const source = interruptsIdleSource(clock, file);
    await writeFile(file, table(100, 5));
    expect(await source()).toBe(0);
    await clock.advance(30_000);
    await writeFile(file, table(100, 900));
    expect(await source()).toBe(30_000);
    await clock.advance(10_000);
    await writeFile(file, table(101, 900));
    expect(await source()).toBe(0);
    await writeFile(file, table(101, 900).replace('i8042', 'xhci_hcd'));
    await expect(source()).rejects.toThrow();
  });

  it('xprintidle: parses the idle milliseconds it prints; rejects when it fails', async () => {
    const script = path.join(root, 'xprintidle');
    await writeFile(script, '#!/bin/sh\necho 123456\n');
    await chmod(script, 0o755);
    expect(await xprintidleSource(script)()).toBe(123_456);
    await writeFile(script, '#!/bin/sh\necho "could not open display" >&2\nexit 1\n');
    await expect(xprintidleSource(script)()).rejects.toBeDefined();
    await expect(xprintidleSource(path.join(root, 'absent'))()).rejects.toBeDefined();
  });

  it('combined: the least idle working source wins; with none working, idle since start', async () => {
    const broken = () => Promise.reject(new Error('absent'));
    expect(await combinedIdleSource(clock, [async () => 500, broken, async () => 200])()).toBe(200);
    const none = combinedIdleSource(clock, [broken]);
    await clock.advance(7_000);
    expect(await none()).toBe(7_000);
  });
});
