import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Tmpfs {
  dir: string;
  unmount: () => Promise<void>;
}

/**
 * A tmpfs of `size` (mount(8) syntax: 2m, 64k) mounted on a new directory:
 * a disk that fills up for real (ENOSPC from the kernel). Needs root (or
 * CAP_SYS_ADMIN) and util-linux mount; rejects saying so otherwise.
 */
export async function mountTmpfs(size: string): Promise<Tmpfs> {
  const dir = await mkdtemp(path.join(tmpdir(), 'simsync-full-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `the disk-full tests mount a ${size} tmpfs and could not (${(e as Error).message.trim()}): run them as root, with mount(8) installed (apt-get install mount)`,
    );
  }
  return {
    dir,
    unmount: async () => {
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
