import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOCAT_MISSING =
  "socat is not installed: the simulated modem needs it for its pseudo-terminal pair. Install the Debian package 'socat' (bash scripts/socat-setup.sh).";

export interface PtyPairOptions {
  /** Path of the terminal's end (what the modem HAL opens). Default: a fresh temp dir + '/modem'. */
  link?: string;
  /** Path of the simulator's end. Default: beside `link`, named '<link>.sim'. */
  simLink?: string;
  /** How long to wait for socat to create both ends. Default 5000 ms. */
  startTimeoutMs?: number;
}

/** Throws an Error naming the package and the setup script when socat is missing. */
export function requireSocat(): void {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(SOCAT_MISSING);
}

/**
 * A pseudo-terminal pair made by socat (`pty,raw,echo=0,link=…` twice), so
 * both ends are real ttys that `serialport` opens like /dev/ttyUSB2. `unplug()`
 * ends socat, which destroys both ptys the way a USB modem vanishes when it
 * reboots; `replug()` makes a new pair under the same link names.
 */
export class PtyPair {
  readonly link: string;
  readonly simLink: string;
  readonly #startTimeoutMs: number;
  readonly #tempDir: string | undefined;
  #socat: ChildProcess | undefined;

  private constructor(link: string, simLink: string, startTimeoutMs: number, tempDir: string | undefined) {
    this.link = link;
    this.simLink = simLink;
    this.#startTimeoutMs = startTimeoutMs;
    this.#tempDir = tempDir;
  }

  static async open(options: PtyPairOptions = {}): Promise<PtyPair> {
    requireSocat();
    let tempDir: string | undefined;
    let link = options.link;
    if (link === undefined) {
      tempDir = await mkdtemp(join(tmpdir(), 'simsync-modem-'));
      link = join(tempDir, 'modem');
    }
    const pair = new PtyPair(link, options.simLink ?? `${link}.sim`, options.startTimeoutMs ?? 5000, tempDir);
    await pair.replug();
    return pair;
  }

  /** Whether socat is running (both ends exist). */
  get plugged(): boolean {
    return this.#socat !== undefined;
  }

  /** Creates the pair (again). No-op when it exists. */
  async replug(): Promise<void> {
    if (this.#socat !== undefined) return;
    const child = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${this.link}`, `pty,raw,echo=0,link=${this.simLink}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#socat = child;
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      let ready = false;
      const timer = setTimeout(
        () => fail(new Error(`socat did not create the pty pair: ${stderr}`)),
        this.#startTimeoutMs,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        if (this.#socat === child) this.#socat = undefined;
        reject(error);
      };
      child.once('error', (e) => fail(new Error(SOCAT_MISSING, { cause: e })));
      child.once('exit', (code) =>
        fail(new Error(`socat exited (${code}) before the pair was ready: ${stderr}`)),
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        if (ready) return;
        stderr += chunk.toString();
        if (!stderr.includes('starting data transfer loop')) return;
        if (!existsSync(this.link) || !existsSync(this.simLink)) return;
        ready = true;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve();
      });
    });
    child.once('exit', () => {
      if (this.#socat === child) this.#socat = undefined;
    });
  }

  /** Destroys both ptys (the USB device disappears). Resolves once socat has exited. */
  async unplug(): Promise<void> {
    const child = this.#socat;
    if (child === undefined) return;
    this.#socat = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  /** Ends socat and removes the temp dir it made, if any. Idempotent. */
  async close(): Promise<void> {
    await this.unplug();
    if (this.#tempDir !== undefined) await rm(this.#tempDir, { recursive: true, force: true });
  }
}
