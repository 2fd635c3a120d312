import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for tests (issue 18): `initdb` in a temp
 * directory (as the `postgres` user when we are root, since PostgreSQL
 * refuses to run as root), started on a free loopback port, removed by
 * `stop()`. The Debian package `postgresql` is installed when its binaries
 * are missing (scripts/install-system-deps.sh); when that cannot be done the
 * start fails saying what to install. Tests never skip for want of it.
 *
 *   const pg = await startTestPostgres();
 *   const url = await pg.createDatabase();   // an empty database of its own
 *   …
 *   await pg.stop();
 */
export interface TestPostgres {
  readonly port: number;
  /** The URL of a database of this cluster (`postgres` by default). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server at once and removes its files; stopping twice is harmless. */
  stop(): Promise<void>;
  /**
   * Stops the server as a crash would (immediate mode: every connection cut),
   * waits `downMs`, and starts it again on the same port with the same data.
   */
  restart(downMs?: number): Promise<void>;
}

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, pg_ctl) are missing: install the Debian package `postgresql` ' +
  '(apt-get install postgresql, or bash scripts/install-system-deps.sh), or set SIMSYNC_PG_BIN to their directory';

/** Where initdb and pg_ctl are: $SIMSYNC_PG_BIN, Debian's newest /usr/lib/postgresql/N/bin, or the PATH. */
function findBinDir(): string | undefined {
  const fromEnv = process.env.SIMSYNC_PG_BIN;
  if (fromEnv) {
    if (existsSync(join(fromEnv, 'initdb'))) return fromEnv;
    throw new Error(`SIMSYNC_PG_BIN=${fromEnv} holds no initdb`);
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(debian, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

/** Finds the binaries, installing the Debian package once when they are missing. */
async function binDir(): Promise<string> {
  const found = findBinDir();
  if (found) return found;
  try {
    await run('bash', [join(ROOT, 'scripts', 'install-system-deps.sh')], { maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    throw new Error(`${INSTALL_HINT} (installing failed: ${(e as Error).message})`);
  }
  const installed = findBinDir();
  if (!installed) throw new Error(INSTALL_HINT);
  return installed;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** PostgreSQL will not run as root: as root, commands run as the `postgres` user the package made. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
}

function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no postgres user: ${INSTALL_HINT}`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** Server settings for tests: no fsync (a throwaway cluster), loopback and a socket in its own directory. */
function serverOptions(port: number, dir: string, settings: Record<string, string>): string {
  const all = { listen_addresses: '127.0.0.1', fsync: 'off', full_page_writes: 'off', ...settings };
  const flags = Object.entries(all).map(([k, v]) => `-c ${k}=${v}`);
  return [`-p ${port}`, `-k ${dir}`, ...flags].join(' ');
}

export interface TestPostgresOptions {
  /** Extra server settings (`postgresql.conf` names). */
  settings?: Record<string, string>;
}

/** Starts a throwaway cluster; see TestPostgres. */
export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const bin = await binDir();
  // As root the server runs as `postgres`, who must reach the directory: /tmp, not a private TMPDIR.
  const dir = mkdtempSync(join(process.getuid?.() === 0 ? '/tmp' : tmpdir(), 'simsync-pg-'));
  const user = serverUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const exec = (tool: string, args: string[]) => run(...asServerUser(join(bin, tool), args));

  await exec('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  let port = 0;
  let opts = '';
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    opts = serverOptions(port, dir, options.settings ?? {});
    try {
      await exec('pg_ctl', ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']);
      break;
    } catch (e) {
      // Another process may have taken the port between our probe and the start.
      if (attempt >= 2) {
        rmSync(dir, { recursive: true, force: true });
        const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
        throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${tail}`);
      }
    }
  }

  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopNow);
    try {
      execFileSync(...asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']), {
        stdio: 'ignore',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // A test process that ends without stop() leaves no server behind.
  process.on('exit', stopNow);

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let made = 0;
  return {
    port,
    url,
    async createDatabase(name = `t${process.pid}_${made++}`) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      stopNow();
    },
    async restart(downMs = 0) {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      await new Promise((r) => setTimeout(r, downMs));
      await exec('pg_ctl', ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']);
    },
  };
}
