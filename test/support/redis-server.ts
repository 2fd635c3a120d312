import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * A throwaway redis-server for tests, on a free loopback port, with nothing
 * written to disk. Fails (never skips) when Redis is not installed.
 */
export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (SIGKILL when `hard`) and waits for it to exit. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (after stop). */
  restart(): Promise<void>;
  /** Forgets every key (between tests). */
  flush(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * redis-server under a small sh that ends it when this process is gone: a
 * test process killed by the runner (vitest ends its forks without their
 * `exit` handlers) left its redis-server running for good, 8 of them after
 * one CI run. The sh leads a process group of its own, so `stop` signals sh
 * and redis-server together; Redis's own first log line gives its pid.
 */
const WATCHED = [
  'redis-server "$@" & r=$!',
  'while kill -0 "$SIMSYNC_TEST_PARENT" 2>/dev/null && kill -0 "$r" 2>/dev/null; do sleep 0.5; done',
  'kill -9 "$r" 2>/dev/null',
  'wait "$r"',
].join('; ');

interface Launched {
  child: ChildProcess;
  /** redis-server's own pid (the child is its sh). */
  pid: number;
}

function launch(port: number): Promise<Launched> {
  const child = spawn(
    'sh',
    ['-c', WATCHED, 'sh', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, SIMSYNC_TEST_PARENT: String(process.pid) },
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const pid = /\bpid=(\d+)/.exec(out)?.[1];
      if (out.includes('Ready to accept connections') && pid !== undefined) {
        clearTimeout(timer);
        resolve({ child, pid: Number(pid) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Signals the sh and redis-server, and waits (at most 10 s) until redis-server is gone and its port free. */
async function end({ child, pid }: Launched, hard: boolean): Promise<void> {
  try {
    process.kill(-(child.pid as number), hard ? 'SIGKILL' : 'SIGTERM');
  } catch {
    // The group is already gone.
  }
  for (const started = Date.now(); alive(pid) && Date.now() - started < 10_000; )
    await new Promise((r) => setTimeout(r, 20));
}

export async function startRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error(
      'redis-server is not installed: apt-get install redis-server (scripts/install-system-deps.sh does it)',
    );
  }
  const port = await freePort();
  let running: Launched | undefined = await launch(port);
  const stop = async (hard = false) => {
    const launched = running;
    running = undefined;
    if (launched !== undefined) await end(launched, hard);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      running = await launch(port);
    },
    async flush() {
      const result = spawnSync('redis-cli', ['-p', String(port), 'FLUSHALL'], { encoding: 'utf8' });
      if (result.status !== 0 || !result.stdout.includes('OK')) {
        throw new Error(`redis-cli FLUSHALL failed: ${result.stderr || result.stdout}`);
      }
    },
  };
}
