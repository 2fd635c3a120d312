import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { AgentIO } from './agent-io.js';

/**
 * The running agent's control socket (issue 16: "a service and its client"):
 * `<data>/agent.sock`, a Unix socket only its owner may use (0600, in the
 * 0700 data directory). While an agent runs, a one-shot `simsync terminal
 * <command>` hands the command to it over this socket instead of failing on
 * the NV store's lock; the agent runs it as one of its own steps, under the
 * same checks (local-access.ts), with its prints and prompts (the PIN too)
 * on the client's terminal.
 *
 * Protocol: one JSON object per line. The client sends `{run, interactive}`
 * once, then `{answer}` for each `{ask, secret}` and `{cancel}` on Ctrl-C;
 * the agent sends `{print}`, `{write}` (progress bars), `{error}` (a
 * failure, for stderr), `{ask}`, and `{done: exitCode}` last.
 */
export const SOCKET_NAME = 'agent.sock';

export function socketPath(dataDir: string): string {
  return path.join(dataDir, SOCKET_NAME);
}

type FromClient = { run: string; interactive?: boolean } | { answer: string | null } | { cancel: true };
type FromAgent =
  | { print: string }
  | { write: string }
  | { error: string }
  | { ask: string; secret: boolean }
  | { done: number };

/** One client's conversation, as the agent's commands see it. */
export class RemoteIO implements AgentIO {
  readonly output: Writable;
  private waiting: ((answer: string | undefined) => void) | undefined;
  private closed = false;
  private readonly cancelListeners: (() => void)[] = [];

  constructor(
    private readonly socket: net.Socket,
    readonly interactive: boolean,
  ) {
    this.output = new Writable({
      write: (chunk, _encoding, done) => {
        this.send({ write: String(chunk) });
        done();
      },
    });
  }

  print(text: string): void {
    this.send({ print: text });
  }

  /** A failure, shown on the client's stderr. */
  error(text: string): void {
    this.send({ error: text });
  }

  question(prompt: string, options: { secret?: boolean } = {}): Promise<string | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.send({ ask: prompt, secret: options.secret === true });
    });
  }

  finish(code: number): void {
    this.send({ done: code });
    this.socket.end();
  }

  /** Ctrl-C at the client, or the client gone. */
  onCancel(listener: () => void): void {
    this.cancelListeners.push(listener);
  }

  received(message: FromClient): void {
    if ('answer' in message) this.answered(message.answer ?? undefined);
    if ('cancel' in message) this.cancelled();
  }

  gone(): void {
    this.closed = true;
    this.cancelled();
  }

  private cancelled(): void {
    this.answered(undefined);
    for (const l of this.cancelListeners.splice(0)) l();
  }

  private answered(answer: string | undefined): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(answer);
  }

  private send(message: FromAgent): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(`${JSON.stringify(message)}\n`);
  }
}

/** The agent's side: accepts one command per connection. */
export class ControlServer {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly path: string,
  ) {}

  /**
   * Listens on `file` (a stale socket of an agent that died is replaced);
   * resolves undefined when it cannot (a path too long for a Unix socket).
   */
  static async listen(
    file: string,
    handle: (line: string, io: RemoteIO) => Promise<number>,
  ): Promise<ControlServer | undefined> {
    // The NV store's lock is held, so no other agent of this directory runs: a socket here is stale.
    if (existsSync(file)) unlinkSync(file);
    const server = net.createServer();
    const control = new ControlServer(server, file);
    server.on('connection', (socket) => control.accept(socket, handle));
    // Owner only from the first instant: the umask covers the bind, chmod the rest.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(file, () => resolve());
      });
    } catch {
      return undefined;
    } finally {
      process.umask(umask);
    }
    chmodSync(file, 0o600);
    return control;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (existsSync(this.path)) unlinkSync(this.path);
  }

  private accept(socket: net.Socket, handle: (line: string, io: RemoteIO) => Promise<number>): void {
    this.sockets.add(socket);
    let io: RemoteIO | undefined;
    lines(socket, (message: FromClient) => {
      if (io === undefined && 'run' in message && typeof message.run === 'string') {
        const remote = new RemoteIO(socket, message.interactive === true);
        io = remote;
        void handle(message.run, remote).then(
          (code) => remote.finish(code),
          () => remote.finish(1),
        );
        return;
      }
      io?.received(message);
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      io?.gone();
    });
    socket.on('error', () => socket.destroy());
  }
}

/** What the client's side needs of a terminal. */
interface ClientIO {
  readonly interactive: boolean;
  print(text: string): void;
  question(prompt: string, options?: { secret?: boolean }): Promise<string | undefined>;
  onInterrupt(handler: () => void): void;
}

/**
 * The one-shot command's side: runs `line` in the agent listening on
 * `file`; resolves its exit code, or undefined when no agent listens there
 * (the command then runs in this process).
 */
export function runThroughAgent(file: string, line: string, io: ClientIO): Promise<number | undefined> {
  if (!existsSync(file)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = net.connect(file);
    let started = false;
    let code: number | undefined;
    socket.once('connect', () => {
      started = true;
      socket.write(`${JSON.stringify({ run: line, interactive: io.interactive })}\n`);
      io.onInterrupt(() => socket.write(`${JSON.stringify({ cancel: true })}\n`));
    });
    lines(socket, (message: FromAgent) => {
      if ('print' in message) io.print(message.print);
      else if ('write' in message) process.stdout.write(message.write);
      else if ('error' in message) console.error(`simsync terminal: ${message.error}`);
      else if ('ask' in message) {
        void io.question(message.ask, { secret: message.secret }).then((answer) => {
          if (!socket.destroyed) socket.write(`${JSON.stringify({ answer: answer ?? null })}\n`);
        });
      } else if ('done' in message) code = message.done;
    });
    socket.on('error', () => {
      // No agent behind the file (it died): run here.
      if (!started) resolve(undefined);
    });
    socket.on('close', () => {
      if (!started) return;
      if (code === undefined) console.error('simsync terminal: the agent stopped before the command ended');
      resolve(code ?? 1);
    });
  });
}

/** Calls `onMessage` for each JSON line the socket receives; a line that is not JSON ends the connection. */
function lines<T>(socket: net.Socket, onMessage: (message: T) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let message: T;
      try {
        message = JSON.parse(text) as T;
      } catch {
        socket.destroy();
        return;
      }
      onMessage(message);
    }
  });
}
