import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, IdleSensor, IdleState, Unsubscribe } from '../hal/index.js';
import { defaultIdleSource, type InputIdleSource } from './input-idle.js';
import { PollLoop } from './poll-loop.js';

export interface LinuxIdleSensorOptions {
  /** Drives polling and the idle arithmetic. */
  clock: Clock;
  /** Where "ms since last input" comes from (default: defaultIdleSource, see input-idle.ts). */
  inputIdle?: InputIdleSource;
  /** ACPI lid buttons (default /proc/acpi/button/lid); no such directory means no lid, never closed. */
  lidRoot?: string;
  /** [0081] (1): true when nothing the user waits for is running (default: always true). */
  noForegroundWork?: () => boolean;
  /** Polling period while `onChange` has listeners (default 10 s). */
  pollMs?: number;
}

/**
 * The idle conditions of [0081] on a Linux host (FIG. 21). `msSinceInput`
 * comes from the injected source; `lidClosed` is true when any ACPI lid
 * reports "closed"; `noForegroundWork` is the caller's predicate.
 *
 * `onChange` polls every `pollMs` while it has listeners and fires when the
 * state differs from the last poll's (the first listener triggers a poll
 * that sets the baseline and reports nothing). The idle time grows between
 * polls, so while the user is away listeners hear the growing figure once
 * per poll, which is what lets FIG. 21 notice that the idle time T passed.
 * A source that fails reads as input just now (busy): never idle by mistake.
 */
export class LinuxIdleSensor implements IdleSensor {
  readonly #inputIdle: InputIdleSource;
  readonly #lidRoot: string;
  readonly #noForegroundWork: () => boolean;
  readonly #listeners = new Set<(state: IdleState) => void>();
  readonly #poll: PollLoop;
  #polls: Promise<void> = Promise.resolve();
  #last: IdleState | undefined;

  constructor(options: LinuxIdleSensorOptions) {
    this.#inputIdle = options.inputIdle ?? defaultIdleSource(options.clock);
    this.#lidRoot = options.lidRoot ?? '/proc/acpi/button/lid';
    this.#noForegroundWork = options.noForegroundWork ?? (() => true);
    this.#poll = new PollLoop(options.clock, options.pollMs ?? 10_000, () => this.poll());
  }

  async read(): Promise<IdleState> {
    const [msSinceInput, lidClosed] = await Promise.all([
      this.#inputIdle().then(
        (ms) => Math.max(0, Math.round(ms)),
        () => 0,
      ),
      this.#lidClosed(),
    ]);
    return { noForegroundWork: this.#noForegroundWork(), msSinceInput, lidClosed };
  }

  onChange(listener: (state: IdleState) => void): Unsubscribe {
    this.#listeners.add(listener);
    if (!this.#poll.running) {
      this.#poll.start();
      this.poll().catch(() => {});
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0) return;
      this.#poll.stop();
      this.#last = undefined;
    };
  }

  /** Reads now and tells listeners if anything changed, as each polling beat does. One at a time. */
  poll(): Promise<void> {
    const run = this.#polls.then(() => this.#check());
    this.#polls = run.catch(() => {});
    return run;
  }

  async #check(): Promise<void> {
    const state = await this.read();
    // Without listeners there is nobody to tell and no baseline to keep: the first listener's poll sets it.
    if (this.#listeners.size === 0) return;
    const last = this.#last;
    this.#last = state;
    if (last === undefined) return;
    if (
      last.msSinceInput === state.msSinceInput &&
      last.lidClosed === state.lidClosed &&
      last.noForegroundWork === state.noForegroundWork
    ) {
      return;
    }
    for (const listener of [...this.#listeners]) listener({ ...state });
  }

  /** /proc/acpi/button/lid/LID0/state holds "state:      open" or "state:      closed". */
  async #lidClosed(): Promise<boolean> {
    const lids = await readdir(this.#lidRoot).catch(() => [] as string[]);
    const states = await Promise.all(
      lids.map((lid) => readFile(path.join(this.#lidRoot, lid, 'state'), 'utf8').catch(() => '')),
    );
    return states.some((text) => /^state:\s*closed\s*$/m.test(text));
  }
}
