import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../hal/index.js';

/** Milliseconds since the user's last input, as one source sees it; rejects when the source cannot tell. */
export type InputIdleSource = () => Promise<number>;

/**
 * Terminal input: the kernel stamps a tty's atime when it delivers input
 * (drivers/tty/tty_io.c tty_update_time, 8 s granularity), which is what
 * `w` shows as IDLE. Covers the console and SSH sessions (/dev/pts/*).
 */
export function ttyIdleSource(clock: Clock, devDir = '/dev'): InputIdleSource {
  return async () => {
    const consoles = (await readdir(devDir))
      .filter((n) => /^tty\d+$/.test(n))
      .map((n) => path.join(devDir, n));
    const ptsDir = path.join(devDir, 'pts');
    const pts = await readdir(ptsDir).then(
      (names) => names.filter((n) => /^\d+$/.test(n)).map((n) => path.join(ptsDir, n)),
      () => [],
    );
    const times = await Promise.all(
      [...consoles, ...pts].map((p) =>
        stat(p).then(
          (s) => s.atimeMs,
          () => 0,
        ),
      ),
    );
    const latest = Math.max(0, ...times);
    if (latest === 0) throw new Error(`no terminal devices under ${devDir}`);
    return Math.max(0, clock.now() - latest);
  };
}

/**
 * Hardware input: interrupt counts of input controllers in /proc/interrupts
 * (the i8042 keyboard/touchpad controller of most laptops). A count that
 * moved since the last sample means input since then. Until the first
 * movement, input is assumed at the first sample.
 */
export function interruptsIdleSource(
  clock: Clock,
  file = '/proc/interrupts',
  devices: RegExp = /i8042|keyboard|touchpad|mouse/i,
): InputIdleSource {
  let lastTotal: number | undefined;
  let lastInputAt = 0;
  return async () => {
    const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => devices.test(line));
    if (lines.length === 0) throw new Error(`no input device interrupts in ${file}`);
    const total = lines.reduce((sum, line) => sum + countsOf(line), 0);
    if (total !== lastTotal) lastInputAt = clock.now();
    lastTotal = total;
    return clock.now() - lastInputAt;
  };
}

/** Sum of the per-CPU counts of one /proc/interrupts line ("  1:  9  0  IR-IO-APIC  1-edge  i8042"). */
function countsOf(line: string): number {
  let sum = 0;
  for (const field of line.split(':').slice(1).join(':').trim().split(/\s+/)) {
    if (!/^\d+$/.test(field)) break;
    sum += Number(field);
  }
  return sum;
}

/** X11 sessions: `xprintidle` prints the X server's idle time in ms (covers USB input too). */
export function xprintidleSource(command = 'xprintidle', timeoutMs = 2000): InputIdleSource {
  return () =>
    new Promise((resolve, reject) => {
      execFile(command, [], { timeout: timeoutMs }, (error, stdout) => {
        const ms = Number(stdout.trim());
        if (error || stdout.trim() === '' || !Number.isFinite(ms)) {
          reject(error ?? new Error(`${command} printed '${stdout.trim()}'`));
        } else {
          resolve(ms);
        }
      });
    });
}

/**
 * The least idle time any working source reports (input seen anywhere
 * counts). When no source can tell, no input has been seen: the time since
 * this function was made, so a headless box with no input devices becomes
 * idle rather than staying busy forever.
 */
export function combinedIdleSource(clock: Clock, sources: readonly InputIdleSource[]): InputIdleSource {
  const since = clock.now();
  return async () => {
    const results = await Promise.allSettled(sources.map((source) => source()));
    const values = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    return values.length === 0 ? clock.now() - since : Math.min(...values);
  };
}

/** tty atimes and input interrupts, plus xprintidle when an X display is set. */
export function defaultIdleSource(clock: Clock): InputIdleSource {
  const sources = [ttyIdleSource(clock), interruptsIdleSource(clock)];
  if (process.env.DISPLAY) sources.push(xprintidleSource());
  return combinedIdleSource(clock, sources);
}
