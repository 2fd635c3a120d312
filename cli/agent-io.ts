import type { Writable } from 'node:stream';

/**
 * What the agent's commands and prompts need of a conversation: the
 * terminal's own (cli/line-io.ts), or a one-shot client's over the control
 * socket (cli/control-socket.ts).
 */
export interface AgentIO {
  /** A person answers prompts here (else a command that must ask refuses). */
  readonly interactive: boolean;
  /** Raw output, for progress bars. */
  readonly output: Writable;
  print(text: string): void;
  /** Resolves the answer, or undefined (cancelled, timed out, input ended). Secrets are never echoed. */
  question(prompt: string, options?: { secret?: boolean }): Promise<string | undefined>;
}

/**
 * The conversation the agent talks on now: its terminal, or for the length
 * of one command from the control socket, that command's client. Commands
 * run one at a time (cli/agent-loop.ts), so one current conversation is
 * enough.
 */
export class IoSwitch implements AgentIO {
  private current: AgentIO;

  constructor(private readonly home: AgentIO) {
    this.current = home;
  }

  get interactive(): boolean {
    return this.current.interactive;
  }

  get output(): Writable {
    return this.current.output;
  }

  print(text: string): void {
    this.current.print(text);
  }

  question(prompt: string, options?: { secret?: boolean }): Promise<string | undefined> {
    return this.current.question(prompt, options);
  }

  /** Runs `work` talking to `io`, then back to the terminal. */
  async with<T>(io: AgentIO, work: () => Promise<T>): Promise<T> {
    this.current = io;
    try {
      return await work();
    } finally {
      this.current = this.home;
    }
  }
}
