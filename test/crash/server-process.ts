import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_MS = 30_000;

/** A free TCP port on loopback (the server restarts on the same one, as a real one does). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** Peak resident set size seen (from /proc), bytes. */
  peakRss: () => number;
  /** SIGKILL, resolved once the process is gone. */
  kill: () => Promise<void>;
  /** SIGTERM (the server closes its store), resolved once gone. */
  stop: () => Promise<void>;
  output: () => string;
}

/**
 * The real `simsync server` (node bin/simsync.js server), SQLite in `data`,
 * on `port`; resolves once it logged that it is ready.
 */
export async function startServer(data: string, port: number, extra: string[] = []): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/simsync.js'),
      'server',
      '--data',
      data,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--metrics-port',
      '0',
      ...extra,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`simsync server not ready in ${START_MS} ms:\n${output}`)),
      START_MS,
    );
    const onData = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
      if (output.includes('server ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`simsync server exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  await ready;
  let peak = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {
      // Gone between two samples.
    }
  };
  const sampler = setInterval(sample, 100);
  sampler.unref();
  child.once('exit', () => clearInterval(sampler));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await gone;
  };
  return {
    child,
    pid: child.pid as number,
    peakRss: () => {
      sample();
      return peak;
    },
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    output: () => output,
  };
}
