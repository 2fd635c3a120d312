import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { HalError } from '../hal/index.js';

/** A held lock file; `release()` is idempotent. */
export interface Lock {
  release(): Promise<void>;
}

const heldHere = new Set<string>();

/**
 * Takes the lock file `file` for this process: created exclusively and
 * holding our pid. A lock left by a process that no longer runs (SIGKILL,
 * power loss) is taken over. Advisory: it stops a second store on the same
 * directory by mistake (two appenders would interleave records), not a
 * process that ignores it. Rejects 'busy' while a live process holds it.
 */
export async function acquireLock(file: string): Promise<Lock> {
  const key = path.resolve(file);
  if (heldHere.has(key)) throw new HalError('busy', `${file} is already open in this process`);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(key)) {
      heldHere.add(key);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          heldHere.delete(key);
          await rm(key, { force: true }).catch(() => {});
        },
      };
    }
    const holder = await readHolder(key);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new HalError('busy', `${file} is held by process ${holder}`);
    }
    await rm(key, { force: true });
  }
  throw new HalError('busy', `cannot take ${file}`);
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    // 0600 whatever the umask: it sits among the store's private files.
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new HalError('device-unavailable', `cannot create ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function readHolder(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
