// The compiled `simsync` command: cli/main.ts and everything it imports,
// bundled by esbuild into dist/ (npm packages stay external and load from
// node_modules). `npm run build` (and `npm install`, as `prepare`) writes it;
// bin/simsync.js runs it, and rebuilds first in a clone whose sources are newer.
//
// Why bundle: started through tsx, `simsync --help` took 0.8–1 s here (tsx
// compiling ~150 files on every call); the bundle answers in about the time
// of `node -e 0` (`npm run bench -- startup`). Each command's heavy part
// (Aedes, the stores, the agent) is a chunk of its own that loads only when
// that command runs (cli/main.ts imports them dynamically).
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
/** The entry bin/simsync.js imports; written last, so a reader never sees it before its chunks. */
export const ENTRY = path.join(DIST, 'main.js');
/** Every folder the command's code comes from. */
const SOURCES = ['cli', 'core', 'broker', 'hal', 'hal-sim', 'hal-pcsc', 'hal-modem', 'hal-linux', 'uicc'];

function newestSource(dir, newest = 0) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = newestSource(file, newest);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

/** True when dist/ holds a build at least as new as every source file (an installed package always is). */
export function isFresh() {
  let built;
  try {
    built = statSync(ENTRY).mtimeMs;
  } catch {
    return false;
  }
  let newest = 0;
  for (const dir of SOURCES) {
    try {
      newest = newestSource(path.join(ROOT, dir), newest);
    } catch {
      // An installed package may leave a folder out; what is there counts.
    }
  }
  return newest <= built;
}

/**
 * Builds dist/. Every file is written to a temporary name and renamed, so
 * processes starting while another rebuilds (tests start many) read whole
 * files; chunk names carry their content hash, so a chunk being replaced is
 * replaced by the same bytes. `clean` empties dist/ first (`npm run build`).
 */
export async function build({ clean = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error(
      'dist/ is missing or older than the sources, and esbuild (a dev dependency) is not installed: run npm install',
    );
  }
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['cli/main.ts'],
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    outdir: DIST,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    write: false,
    logLevel: 'warning',
  });
  if (clean) rmSync(DIST, { recursive: true, force: true });
  const entry = result.outputFiles.filter((f) => f.path === ENTRY);
  const rest = result.outputFiles.filter((f) => f.path !== ENTRY);
  for (const file of [...rest, ...entry]) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build({ clean: true });
