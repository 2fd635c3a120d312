import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** What the broker process says about itself (see broker-process.ts). */
export interface BrokerStats {
  /** CPU time used since it started, user + system, µs. */
  cpuUs: number;
  /** Resident set size after a garbage collection, bytes. */
  rss: number;
  heapUsed: number;
}

export interface BrokerChild {
  port: number;
  pid: number;
  stats(): Promise<BrokerStats>;
  /** FIG. 18/19 shop registration of `terminals` for `subscriber`: their one-time codes, in order. */
  shop(subscriber: string, terminals: readonly string[], categories: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

/** The open-files limit a spawned process gets: its hard limit (soft limits are often lower). */
export function openFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
  const hard = Number(line?.trim().split(/\s+/)[4]);
  return Number.isFinite(hard) ? hard : 1024;
}

/**
 * Spawns `bench/<entry>` under `node --import tsx` with the open-files soft
 * limit raised to the hard limit; `args` follow the entry. With
 * `BENCH_CPU_PROF=<dir>` in the environment the child writes a V8 CPU
 * profile there when it exits (Node refuses `--cpu-prof` in NODE_OPTIONS;
 * open it in Chrome DevTools or speedscope for the flame graph).
 */
export function spawnNode(entry: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  const script = 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"';
  const profileDir = process.env.BENCH_CPU_PROF;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  return spawn(
    'bash',
    [
      '-c',
      script,
      process.execPath,
      ...profile,
      '--expose-gc',
      '--import',
      'tsx',
      path.join(HERE, entry),
      ...args,
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
}

/**
 * JSON-line request/reply with a child process: every call is bounded by
 * `timeoutMs`; the first stdout line (no id) is the child's hello.
 */
export class JsonLineChild {
  private nextId = 1;
  private readonly waiting = new Map<number, (message: Record<string, unknown>) => void>();
  private stderr = '';
  readonly hello: Promise<Record<string, unknown>>;

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    private readonly timeoutMs: number,
  ) {
    // One exit listener per call in flight; thousands may be.
    child.setMaxListeners(0);
    child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    let greet: (message: Record<string, unknown>) => void = () => {};
    this.hello = this.bounded(
      new Promise((resolve) => {
        greet = resolve;
      }),
      'start',
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (typeof message.id !== 'number') return greet(message);
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }

  call(op: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    return this.bounded(answer, op).then((message) => {
      if (typeof message.error === 'string') throw new Error(`${op}: ${message.error}`);
      return message;
    });
  }

  private bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`child ${what}: no answer within ${this.timeoutMs} ms\n${this.stderr}`));
      }, this.timeoutMs);
      const exited = () => reject(new Error(`child exited during ${what}\n${this.stderr}`));
      this.child.once('exit', exited);
      promise.then(
        (v) => {
          clearTimeout(timer);
          this.child.off('exit', exited);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          this.child.off('exit', exited);
          reject(e);
        },
      );
    });
  }

  /** Asks the child to close; kills it if it does not exit in time. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call('close').catch(() => this.child.kill('SIGKILL'));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), this.timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Starts a broker in its own process: the sync server on a SQLite store
 * (`sync`, `data` = file or ':memory:'), an unmodified Aedes (`plain`), or
 * a bare TCP byte server (`raw`, see rawCopy).
 */
export async function spawnBroker(
  mode: 'sync' | 'plain' | 'raw',
  options: { data?: string; timeoutMs?: number } = {},
): Promise<BrokerChild> {
  const rpc = new JsonLineChild(
    spawnNode('broker-process.ts', mode === 'sync' ? [mode, options.data ?? ':memory:'] : [mode]),
    options.timeoutMs ?? 60_000,
  );
  const hello = await rpc.hello;
  return {
    port: Number(hello.port),
    pid: Number(hello.pid),
    stats: async () => (await rpc.call('stats')) as unknown as BrokerStats,
    shop: async (subscriber, terminals, categories) =>
      (await rpc.call('shop', { subscriber, terminals, categories })).codes as string[],
    close: () => rpc.close(),
  };
}

/**
 * A raw TCP copy of `bytes` on loopback from a `raw` broker process: asks
 * for them, reads until the server closes; resolves the milliseconds taken.
 */
export function rawCopy(port: number, bytes: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let got = 0;
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => {
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(bytes));
      socket.write(header);
    });
    const timer = setTimeout(
      () => socket.destroy(new Error(`raw copy: ${got} of ${bytes} bytes in ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (got === bytes) resolve(performance.now() - started);
      else reject(new Error(`raw copy: ${got} of ${bytes} bytes`));
    });
  });
}
