import { isOutOfReach, SyncError, type Terminal, type Trigger } from '../core/index.js';
import { ControlServer, type RemoteIO, socketPath } from './control-socket.js';
import { failureLine } from './failure-text.js';
import { Cancelled } from './first-run.js';
import type { Interrupt, LineIO } from './line-io.js';
import { TerminalAgent } from './terminal-agent.js';

type CardEvent = Parameters<Parameters<Terminal['onCard']>[0]>[0];
type UploadOutcome = Awaited<ReturnType<Terminal['stop']>>;

/** How long stopping may spend uploading what is pending (FIG. 16's demount hold, shortened). */
export const UPLOAD_ON_STOP_MS = 10_000;
/** Past this the agent stops anyway (a server or card that no longer answers), releasing its lock. */
const STOP_BOUND_MS = 20_000;

/** Exit codes of `simsync terminal`: 0 the agent did its job, 1 a command failed, 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/**
 * The agent as a person (or systemd) meets it (issue 14, issue 16):
 *
 * - Ctrl-C cancels the current step: a prompt, a sync (stopped between
 *   batches, [0085]: finished work kept), an import; a second Ctrl-C quits.
 * - `quit`, a second Ctrl-C, the end of typed input (Ctrl-D), SIGTERM and
 *   SIGHUP stop the agent: what is pending is uploaded within
 *   UPLOAD_ON_STOP_MS, the NV store is closed (no stale lock), exit 0. A
 *   command that failed earlier does not change that: a non-zero exit means
 *   the agent itself failed (systemd's Restart=on-failure relies on it).
 * - Each failure is told once, worded by its kind (cli/failure-text.ts).
 * - The SIM leaving and returning is told, with what the demount upload did.
 */
export class AgentLoop {
  private step: { name: string; abort: AbortController } | undefined;
  private interrupts = 0;
  private stopping: Promise<void> | undefined;
  private finished: () => void = () => {};
  /** Lines typed at the prompt, and commands from the control socket with their client. */
  private readonly queue: { line: string; remote?: { io: RemoteIO; done: (code: number) => void } }[] = [];
  private control: ControlServer | undefined;
  private draining = false;
  private readonly printed = new WeakSet<object>();
  /** The failure line last said while the server was out of reach (its retries' failures are not said again). */
  private retrying: string | undefined;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly agent: TerminalAgent,
    private readonly io: LineIO,
    /** The data directory, where the control socket goes (cli/control-socket.ts). */
    private readonly dataDir?: string,
  ) {}

  /** Agent mode: first run, then follow the SIM and run commands until stopped; resolves the exit code. */
  async serve(): Promise<number> {
    const done = new Promise<void>((resolve) => {
      this.finished = resolve;
    });
    this.listen({ oneShot: false });
    try {
      const registered = await this.firstRun();
      if (!registered && !this.io.interactive) {
        // Nobody can type `register`: this agent cannot do its job.
        await this.shutdown();
        return EXIT.failed;
      }
      if (this.stopping === undefined) await this.start();
      await done;
      return EXIT.ok;
    } finally {
      for (const off of this.offs.splice(0)) off();
    }
  }

  /** One command, then stop; resolves the exit code. */
  async once(line: string): Promise<number> {
    this.listen({ oneShot: true });
    const abort = new AbortController();
    this.step = { name: line.split(/\s+/)[0] ?? line, abort };
    try {
      if (
        !TerminalAgent.needsNoCardSession(line) &&
        this.agent.reader.present() &&
        (await this.agent.registered())
      ) {
        await this.agent.terminal.openCardSession();
      }
      await this.agent.run(line, { signal: abort.signal });
      return EXIT.ok;
    } catch (e) {
      this.tell(e, this.step.name, (text) =>
        console.error(`simsync terminal: ${text.replace(/^[!•] /, '')}`),
      );
      return this.interrupts > 0 ? EXIT.interrupted : EXIT.failed;
    } finally {
      this.step = undefined;
      await bounded(this.agent.close(), STOP_BOUND_MS);
      for (const off of this.offs.splice(0)) off();
    }
  }

  private async firstRun(): Promise<boolean> {
    this.step = { name: 'registration', abort: new AbortController() };
    try {
      await this.agent.ensureRegistered();
    } catch (e) {
      this.report(e, 'registration');
    } finally {
      this.step = undefined;
    }
    return (await this.agent.terminal.registration()) !== undefined;
  }

  private async start(): Promise<void> {
    const { terminal, reader } = this.agent;
    this.io.print(
      `simsync terminal ${terminal.terminalId} — ${reader.present() ? 'SIM present' : 'waiting for the SIM'}; type help`,
    );
    terminal.start();
    if (this.dataDir !== undefined) {
      this.control = await ControlServer.listen(socketPath(this.dataDir), (line, io) =>
        this.remote(line, io),
      );
      if (this.control === undefined)
        this.io.print('• no control socket here: one-shot commands cannot reach this agent');
    }
    this.io.onCommand((line) => {
      this.interrupts = 0;
      this.enqueue(line);
    });
    // Ctrl-D at a terminal quits; a service's input (/dev/null) ends at once and means nothing.
    if (this.io.interactive) this.io.onClose(() => void this.shutdown());
  }

  private listen(mode: { oneShot: boolean }): void {
    const { terminal } = this.agent;
    this.io.onInterrupt((where) => this.interrupt(where, mode.oneShot));
    this.offs.push(
      terminal.onCard((event) => this.cardEvent(event)),
      terminal.onFailure((trigger, error) => this.triggerFailed(trigger, error)),
    );
    const stop = () => {
      if (mode.oneShot) this.cancelOneShot();
      else void this.shutdown();
    };
    const interrupt = () => {
      if (mode.oneShot || !this.io.interactive) stop();
      else this.interrupt('idle', false);
    };
    for (const [signal, handler] of [
      ['SIGTERM', stop],
      ['SIGHUP', stop],
      ['SIGINT', interrupt],
    ] as const) {
      process.on(signal, handler);
      this.offs.push(() => process.off(signal, handler));
    }
  }

  private interrupt(where: Interrupt, oneShot: boolean): void {
    if (oneShot) {
      this.cancelOneShot();
      return;
    }
    if (this.stopping !== undefined) {
      this.io.print('(stopping: pending changes upload for a few seconds more)');
      return;
    }
    this.interrupts++;
    if (this.interrupts >= 2) {
      void this.shutdown();
      return;
    }
    const step = this.step;
    if (step !== undefined) {
      step.abort.abort();
      // Lines typed ahead go with the step; commands of socket clients stay queued, each awaited.
      this.queue.splice(0, this.queue.length, ...this.queue.filter((next) => next.remote !== undefined));
      if (where !== 'prompt')
        this.io.print(`(stopping ${step.name} at its next safe point; Ctrl-C again to quit)`);
      return;
    }
    this.io.print(
      where === 'prompt' ? '(cancelled; Ctrl-C again to quit)' : '(type quit, or Ctrl-C again, to leave)',
    );
  }

  private cancelOneShot(): void {
    this.interrupts++;
    this.io.refusePrompts();
    this.step?.abort.abort();
  }

  private enqueue(line: string): void {
    if (this.stopping !== undefined) return;
    this.queue.push({ line });
    void this.drain();
  }

  /** A one-shot command from the control socket: queued like a typed one, told to its client. */
  private remote(line: string, io: RemoteIO): Promise<number> {
    const name = line.trim().split(/\s+/)[0] ?? '';
    if (name === 'quit' || name === 'exit') {
      io.error('the agent quits at its own prompt, or on SIGTERM (systemctl stop)');
      return Promise.resolve(EXIT.usage);
    }
    if (this.stopping !== undefined) {
      io.error('the agent is stopping; run the command again in a moment');
      return Promise.resolve(EXIT.failed);
    }
    return new Promise((done) => {
      this.queue.push({ line, remote: { io, done } });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (this.stopping !== undefined) {
          next.remote?.io.error('the agent is stopping; the command did not run');
          next.remote?.done(EXIT.failed);
          continue;
        }
        if (next.remote !== undefined) {
          next.remote.done(await this.runRemoteStep(next.line, next.remote.io));
          continue;
        }
        if (!(await this.runStep(next.line))) {
          void this.shutdown();
          return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async runStep(line: string): Promise<boolean> {
    const abort = new AbortController();
    const name = line.split(/\s+/)[0] ?? line;
    this.step = { name, abort };
    try {
      return await this.agent.run(line, { signal: abort.signal });
    } catch (e) {
      this.report(e, name);
      return true;
    } finally {
      this.step = undefined;
    }
  }

  private async runRemoteStep(line: string, io: RemoteIO): Promise<number> {
    const abort = new AbortController();
    const name = line.split(/\s+/)[0] ?? line;
    this.step = { name, abort };
    io.onCancel(() => abort.abort());
    try {
      await this.agent.runFor(io, line, { signal: abort.signal });
      return EXIT.ok;
    } catch (e) {
      this.tell(e, name, (text) => io.error(text.replace(/^[!•] /, '')));
      return EXIT.failed;
    } finally {
      this.step = undefined;
    }
  }

  /** Stops the agent once, whoever asks: uploads what is pending (bounded), closes everything. */
  private shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.io.refusePrompts();
      this.step?.abort.abort();
      for (const next of this.queue.splice(0)) next.remote?.done(EXIT.failed);
      await this.control?.close();
      const outcome = await bounded(this.agent.close({ uploadWithinMs: UPLOAD_ON_STOP_MS }), STOP_BOUND_MS);
      this.io.print(
        outcome === undefined ? 'stopped (the last upload did not finish in time)' : stopLine(outcome),
      );
      this.finished();
    })();
    return this.stopping;
  }

  private cardEvent(event: CardEvent): void {
    if (event.kind === 'inserted') {
      this.io.print('SIM inserted');
      return;
    }
    if (event.error instanceof Error) this.printed.add(event.error);
    if (event.error instanceof Error) this.agent.ui.claim(event.error.message);
    this.io.print(removedLine(event));
  }

  private triggerFailed(trigger: Trigger, error: unknown): void {
    if (this.stopping !== undefined) return;
    // While the server stays out of reach, the retries' failures are the same line: said once, with when the next try is.
    const retryMs = this.agent.terminal.triggers.retryPendingMs;
    const line = failureLine(error, 'sync');
    if (trigger === 'retry' && line === this.retrying) {
      if (error instanceof Error) this.agent.ui.claim(error.message);
      this.agent.noteFailure(line);
      return;
    }
    const retried = retryMs > 0 && isOutOfReach(error);
    this.retrying = retried ? line : undefined;
    if (retried) {
      this.tell(error, 'sync', (text) =>
        this.io.print(
          `${text}; trying again within ${Math.ceil(retryMs / 1000)} s, then less often until it answers`,
        ),
      );
      return;
    }
    this.report(error, 'sync');
    // The mount found the PIN blocked: the PUK prompt follows (never tried again by itself).
    if (this.io.interactive && error instanceof SyncError && error.code === 'pin-blocked')
      this.enqueue('unblock');
  }

  private report(error: unknown, action: string): void {
    if (error instanceof Cancelled) {
      this.io.print('registration cancelled: nothing was kept; type register to start again, or quit');
      return;
    }
    this.tell(error, action, (text) => this.io.print(text));
  }

  /** Prints a failure once (the engine's own notice of it is claimed, see TtyUserAgent). */
  private tell(error: unknown, action: string, print: (text: string) => void): void {
    if (typeof error === 'object' && error !== null) {
      if (this.printed.has(error)) return;
      this.printed.add(error);
    }
    if (error instanceof Error) this.agent.ui.claim(error.message);
    const line = failureLine(error, action);
    this.agent.noteFailure(line);
    print(line);
  }
}

function changes(n: number): string {
  return `${n} change${n === 1 ? '' : 's'}`;
}

function reasonOf(error: unknown): string {
  return failureLine(error, 'upload').replace(/^[!•] /, '');
}

/** "SIM removed: uploaded 3 changes" (issue 14), or what stayed behind and why. */
export function removedLine(event: UploadOutcome): string {
  if (event.pending === 0)
    return event.uploaded > 0 ? `SIM removed: uploaded ${changes(event.uploaded)}` : 'SIM removed';
  const done = event.uploaded > 0 ? `uploaded ${changes(event.uploaded)}, ` : '';
  const why = event.error === undefined ? '' : ` (${reasonOf(event.error)})`;
  return `SIM removed: ${done}${changes(event.pending)} stay here until the SIM returns${why}`;
}

/** What stopping did with the changes not yet on the server. */
export function stopLine(outcome: UploadOutcome): string {
  if (outcome.pending === 0) {
    return outcome.uploaded > 0
      ? `stopped: uploaded ${changes(outcome.uploaded)} first`
      : 'stopped: nothing left to upload';
  }
  const why =
    outcome.error === undefined ? 'no sync was authenticated in this session' : reasonOf(outcome.error);
  return `stopped: ${changes(outcome.pending)} stay on this terminal until the next sync (${why})`;
}

/** `work`, or undefined once `ms` have passed. */
async function bounded<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
