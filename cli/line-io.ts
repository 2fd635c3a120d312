import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/**
 * One line-oriented conversation on a terminal: prompts (secrets without
 * echo) and commands share the same input, so an answer is never taken for a
 * command. Every prompt has a timeout and resolves `undefined` when it runs
 * out or the input ends.
 */
export class LineIO {
  private readonly rl: readline.Interface;
  private muted = false;
  private waiting: ((line: string | undefined) => void) | undefined;
  private commandHandler: ((line: string) => void) | undefined;
  /** Lines typed ahead (or piped in) before anyone asked for them. */
  private readonly pending: string[] = [];
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    input: Readable,
    readonly output: Writable,
    private readonly promptTimeoutMs = 120_000,
  ) {
    this.rl = readline.createInterface({
      input,
      output,
      terminal: (output as { isTTY?: boolean }).isTTY === true,
    });
    const rl = this.rl as unknown as { _writeToOutput: (s: string) => void };
    const write = rl._writeToOutput.bind(rl);
    rl._writeToOutput = (s: string) => {
      // While a secret is typed, echo nothing but the line end.
      if (!this.muted || s.includes('\n') || s.includes('\r')) write(this.muted ? '\n' : s);
    };
    this.rl.on('line', (line) => {
      const waiting = this.waiting;
      if (waiting) {
        this.waiting = undefined;
        waiting(line);
        return;
      }
      if (this.commandHandler) this.commandHandler(line.trim());
      else this.pending.push(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      this.waiting?.(undefined);
      this.waiting = undefined;
      for (const l of this.closeListeners) l();
    });
  }

  print(text: string): void {
    this.output.write(`${text}\n`);
  }

  question(prompt: string, options: { secret?: boolean } = {}): Promise<string | undefined> {
    const typedAhead = this.pending.shift();
    if (typedAhead !== undefined) {
      this.output.write(`${prompt}: ${options.secret ? '' : typedAhead}\n`);
      return Promise.resolve(typedAhead);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.muted = false;
        this.print('\n(no answer: cancelled)');
        resolve(undefined);
      }, this.promptTimeoutMs);
      this.output.write(`${prompt}: `);
      this.muted = options.secret === true;
      this.waiting = (line) => {
        clearTimeout(timer);
        this.muted = false;
        resolve(line);
      };
    });
  }

  onCommand(handler: (line: string) => void): void {
    this.commandHandler = handler;
    for (const line of this.pending.splice(0)) handler(line.trim());
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  close(): void {
    this.rl.close();
  }
}
