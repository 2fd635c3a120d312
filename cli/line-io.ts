import { openSync } from 'node:fs';
import readline from 'node:readline';
import { type Readable, Writable } from 'node:stream';
import tty from 'node:tty';

/** Where a Ctrl-C landed: on a prompt (which it cancelled), or anywhere else. */
export type Interrupt = 'prompt' | 'idle';

export interface LineIOOptions {
  /** A prompt with no answer resolves undefined after this long (default 120 s). */
  promptTimeoutMs?: number;
  /**
   * Where typing is echoed when the input is a terminal; default the output
   * when it is one, else the controlling terminal (/dev/tty), so that with
   * `| tee` the typing shows on the screen and not in the log.
   */
  echo?: Writable;
}

/**
 * One line-oriented conversation on a terminal: prompts and commands share
 * the same input, so an answer is never taken for a command.
 *
 * Secrets are never echoed. With a terminal as input, readline puts it in
 * raw mode (the kernel echoes nothing) and echoes typing itself, to nowhere
 * while a secret is typed, whatever the output is: a pipe, `tee`, a file.
 * Without a terminal the answers come from the input (a pipe echoes nothing)
 * and the prompt line shows none of it. Secret answers never enter the line
 * history.
 *
 * Every prompt has a timeout and resolves `undefined` when it runs out, the
 * input ends, Ctrl-C cancels it, or `refusePrompts` was called.
 */
export class LineIO {
  private readonly rl: readline.Interface;
  /** Where readline writes its echo; swapped for a sink while a secret is typed. */
  private readonly echo: Writable;
  private readonly sink = new Writable({ write: (_c, _e, done) => done() });
  private waiting:
    | { resolve: (line: string | undefined) => void; secret: boolean; prompt: string }
    | undefined;
  private commandHandler: ((line: string) => void) | undefined;
  private interruptHandler: ((where: Interrupt) => void) | undefined;
  /** Lines typed ahead (or piped in) before anyone asked for them. */
  private readonly pending: string[] = [];
  private closed = false;
  private refusing = false;
  private readonly closeListeners: (() => void)[] = [];
  private readonly promptTimeoutMs: number;
  /** The input is a terminal a person types at. */
  readonly interactive: boolean;

  constructor(
    input: Readable,
    readonly output: Writable,
    options: LineIOOptions = {},
  ) {
    this.promptTimeoutMs = options.promptTimeoutMs ?? 120_000;
    this.interactive = (input as { isTTY?: boolean }).isTTY === true;
    this.echo = options.echo ?? echoFor(this.interactive, output);
    this.rl = readline.createInterface({
      input,
      output: this.echo,
      terminal: this.interactive,
      historySize: 100,
    });
    this.rl.setPrompt('');
    this.rl.on('line', (line) => this.onLine(line));
    this.rl.on('SIGINT', () => this.onCtrlC());
    this.rl.on('close', () => {
      this.closed = true;
      this.answer(undefined);
      for (const l of this.closeListeners) l();
    });
  }

  print(text: string): void {
    const waiting = this.waiting;
    if (waiting !== undefined && this.interactive) {
      // A notice while a prompt waits: on its own line, then the prompt again.
      this.output.write(`\n${text}\n${waiting.prompt}`);
      return;
    }
    this.output.write(`${text}\n`);
  }

  question(prompt: string, options: { secret?: boolean } = {}): Promise<string | undefined> {
    if (this.refusing) return Promise.resolve(undefined);
    const typedAhead = this.pending.shift();
    if (typedAhead !== undefined) {
      this.output.write(`${prompt}: ${options.secret ? '' : typedAhead}\n`);
      return Promise.resolve(typedAhead);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.answer(undefined);
        this.print('(no answer: cancelled)');
      }, this.promptTimeoutMs);
      const secret = options.secret === true;
      this.showPrompt(`${prompt}: `);
      if (secret) (this.rl as unknown as { output: Writable }).output = this.sink;
      this.waiting = {
        secret,
        prompt: `${prompt}: `,
        resolve: (line) => {
          clearTimeout(timer);
          if (secret) {
            (this.rl as unknown as { output: Writable }).output = this.echo;
            if (line !== undefined && this.interactive) this.echo.write('\n');
          }
          this.rl.setPrompt('');
          resolve(line);
        },
      };
    });
  }

  /** Lines typed when no prompt waits. */
  onCommand(handler: (line: string) => void): void {
    this.commandHandler = handler;
    for (const line of this.pending.splice(0)) handler(line.trim());
  }

  /** Ctrl-C typed at the terminal (a prompt waiting for an answer is cancelled first). */
  onInterrupt(handler: (where: Interrupt) => void): void {
    this.interruptHandler = handler;
  }

  /** Whether a prompt waits for an answer now. */
  get asking(): boolean {
    return this.waiting !== undefined;
  }

  /** From now on every prompt resolves undefined at once, the one waiting too (shutting down). */
  refusePrompts(): void {
    this.refusing = true;
    if (this.waiting !== undefined) {
      this.answer(undefined);
      if (this.interactive) this.output.write('\n');
    }
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  close(): void {
    this.rl.close();
  }

  private showPrompt(text: string): void {
    if (this.interactive && this.echo === this.output) {
      // readline redraws its prompt when the line is edited: let it know this one.
      this.rl.setPrompt(text);
      this.rl.prompt(true);
      return;
    }
    this.output.write(text);
  }

  private onLine(line: string): void {
    const waiting = this.waiting;
    if (waiting !== undefined) {
      if (waiting.secret) forget(this.rl, line);
      this.answer(line);
      return;
    }
    if (this.commandHandler) this.commandHandler(line.trim());
    else this.pending.push(line);
  }

  private onCtrlC(): void {
    // Whatever was typed on the line so far goes.
    this.rl.write(null, { ctrl: true, name: 'u' });
    if (this.waiting !== undefined) {
      this.answer(undefined);
      this.output.write('^C\n');
      this.interruptHandler?.('prompt');
      return;
    }
    this.output.write('^C\n');
    this.interruptHandler?.('idle');
  }

  private answer(line: string | undefined): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(line);
  }
}

/** The terminal to echo typing on: the output if it is one, else /dev/tty, else nowhere. */
function echoFor(interactive: boolean, output: Writable): Writable {
  if (!interactive || (output as { isTTY?: boolean }).isTTY === true) return output;
  try {
    return new tty.WriteStream(openSync('/dev/tty', 'w'));
  } catch {
    return new Writable({ write: (_c, _e, done) => done() });
  }
}

/** A secret typed at a prompt leaves no trace in the line history (arrow-up shows nothing of it). */
function forget(rl: readline.Interface, line: string): void {
  const history = (rl as unknown as { history?: string[] }).history;
  if (history !== undefined && history[0] === line) history.shift();
}
