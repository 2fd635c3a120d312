import { chmod, type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { HalError, type NvEntry, type NvOp, type NvStore } from '../hal/index.js';
import { acquireLock, type Lock } from './dir-lock.js';
import { encodeFileHeaderV2, encodeRecordV2 } from './file-nv-log-v2.js';
import { replayAnyLog } from './file-nv-replay.js';
import { encodeKey, encodeRecord, type LogRecord } from './nv-log-format.js';
import { applyOps } from './nv-log-recovery.js';

export interface FileNvStoreOptions {
  /** No compaction while the log is smaller than this (default 1 MiB). */
  compactMinBytes?: number;
  /** Compact when the log exceeds this many times the live data (default 3, at least 1.5). */
  compactRatio?: number;
  /** Largest snapshot record written by compaction (default 1 MiB). */
  snapshotChunkBytes?: number;
}

/** Wear figures for the bench: what the store asked the disk to write. */
export interface FileNvStoreStats {
  /** Non-empty commits that resolved since open. */
  commits: number;
  /** Bytes written to files since open: log appends, compactions and file headers. */
  bytesWritten: number;
  compactions: number;
  /** Size of the log file now. */
  logBytes: number;
  /** Bytes of a torn final append discarded at open. */
  tornBytesDiscarded: number;
}

export const LOG_FILE = 'nv.log';
const COMPACT_FILE = 'nv.log.compact';
const LOCK_FILE = 'LOCK';
/** About what a snapshot spends on an entry besides its key and value (format 2: 2–5 bytes). */
const LIVE_OVERHEAD_BYTES = 3;
/** The store holds personal data: its owner's only, set explicitly so no umask widens it. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * NvStore in a directory: an append-only log of checksummed batch records,
 * replayed into memory at open, compacted into a fresh file now and then
 * (README.md "FileNvStore"). It writes format 2 (file-nv-log-v2.ts); a log
 * of format 1 (nv-log-format.ts) opens as it is and is rewritten in format 2
 * at once, the way a compaction rewrites it (until that succeeds, its
 * commits append format 1 records).
 *
 * Promises (hal/nv-store.ts): a commit is one record appended and
 * fdatasync'ed before it resolves, so a crash (power loss, SIGKILL) leaves
 * every resolved batch and at most a torn, never-acknowledged final record,
 * which open() discards. Checksum or structure damage anywhere else rejects
 * open() with 'store-corrupt'. Values are served from memory, verified when
 * read at open. One process at a time: open() rejects 'busy' while another
 * live process holds the directory. The directory is made (or made again)
 * 0700 and every file in it 0600, whatever the umask.
 */
export class FileNvStore implements NvStore {
  readonly #dir: string;
  readonly #options: Required<FileNvStoreOptions>;
  readonly #entries: Map<string, Uint8Array>;
  readonly #lock: Lock;
  #file: FileHandle;
  /** The record encoder of the log's format: format 2 once the log is (or has been rewritten) so. */
  #encode: (record: LogRecord) => Uint8Array;
  #seq: number;
  #logBytes: number;
  #liveBytes = 0;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  /** Set when a write or fsync failed in a way that leaves the file's contents unknown. */
  #broken: HalError | undefined;
  #stats: FileNvStoreStats;

  private constructor(
    dir: string,
    file: FileHandle,
    lock: Lock,
    state: OpenState,
    options: FileNvStoreOptions,
  ) {
    this.#dir = dir;
    this.#file = file;
    this.#lock = lock;
    this.#entries = state.entries;
    this.#seq = state.seq;
    this.#encode = state.version === 1 ? encodeRecord : encodeRecordV2;
    this.#logBytes = state.logBytes;
    this.#options = {
      compactMinBytes: options.compactMinBytes ?? 1 << 20,
      compactRatio: Math.max(1.5, options.compactRatio ?? 3),
      snapshotChunkBytes: options.snapshotChunkBytes ?? 1 << 20,
    };
    for (const [key, value] of this.#entries) this.#liveBytes += liveSize(key, value);
    this.#stats = {
      commits: 0,
      bytesWritten: state.bytesWritten,
      compactions: 0,
      logBytes: state.logBytes,
      tornBytesDiscarded: state.tornBytes,
    };
  }

  /**
   * Opens (creating if needed) the store in `dir`, 0700 (a store made by an
   * earlier version with looser modes is tightened here, its log too).
   * Rejects 'store-corrupt' when the log is damaged other than by a torn
   * final append, 'busy' when another process has it open,
   * 'device-unavailable' on I/O errors, a failed chmod included.
   */
  static async open(dir: string, options: FileNvStoreOptions = {}): Promise<FileNvStore> {
    const created = await io(`create ${dir}`, () => mkdir(dir, { recursive: true, mode: DIR_MODE }));
    // A new directory's own entry must be durable too, or the whole store can vanish.
    if (created !== undefined) await syncDir(path.dirname(path.resolve(dir))).catch(() => {});
    await io(`make ${dir} private`, () => chmod(dir, DIR_MODE));
    const lock = await acquireLock(path.join(dir, LOCK_FILE));
    try {
      const state = await loadLog(dir);
      const file = await io('open log', async () => {
        const handle = await open(path.join(dir, LOG_FILE), 'r+');
        await handle.chmod(FILE_MODE).catch(async (error: unknown) => {
          await handle.close();
          throw error;
        });
        return handle;
      });
      const store = new FileNvStore(dir, file, lock, state, options);
      // Format 1 is migrated as a compaction: atomically, the old log whole until the rename.
      // Should that fail (no space, say) the store goes on appending format 1.
      if (state.version === 1) await store.compact().catch(() => {});
      return store;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /**
   * Moves a log that open() refused as 'store-corrupt' out of the way, so
   * the next open() starts an empty store (and the terminal resyncs from the
   * server). The damaged log is kept, renamed `nv.log.corrupt-<time>`, for
   * inspection; nothing in it is read. Resolves with the new path once the
   * rename is durable (directory fsynced); rejects 'busy' while another
   * process has the store open, 'device-unavailable' when there is no log.
   */
  static async moveAside(dir: string, now: Date = new Date()): Promise<string> {
    const lock = await acquireLock(path.join(dir, LOCK_FILE));
    try {
      const target = path.join(dir, `${LOG_FILE}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`);
      await io(`move ${LOG_FILE} aside`, () => rename(path.join(dir, LOG_FILE), target));
      await io(`sync ${dir}`, () => syncDir(dir));
      return target;
    } finally {
      await lock.release();
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    return this.#entries.get(key)?.slice();
  }

  async scan(prefix: string): Promise<NvEntry[]> {
    this.#checkOpen();
    const keys = [...this.#entries.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    return keys.map((key) => ({ key, value: (this.#entries.get(key) as Uint8Array).slice() }));
  }

  commit(batch: readonly NvOp[]): Promise<void> {
    const ops = batch.map(copyOp);
    try {
      for (const op of ops) encodeKey(op.key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(async () => {
      this.#checkWritable();
      if (ops.length === 0) return;
      const record = this.#encode({ kind: 'batch', seq: this.#seq + 1, ops });
      await this.#append(record);
      this.#seq++;
      this.#apply(ops);
      this.#stats.commits++;
      if (this.#shouldCompact()) await this.#compact().catch(() => {});
    });
  }

  /** Rewrites the live entries into a fresh log now (normally automatic). */
  compact(): Promise<void> {
    return this.#enqueue(async () => {
      this.#checkWritable();
      await this.#compact();
    });
  }

  stats(): FileNvStoreStats {
    return { ...this.#stats, logBytes: this.#logBytes };
  }

  /** Waits for pending commits, closes the file and releases the directory. Idempotent. */
  close(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#file.close().catch(() => {});
      await this.#lock.release();
    });
  }

  /** Runs `task` after every earlier task; one failing task does not stop later ones. */
  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #append(record: Uint8Array): Promise<void> {
    const at = this.#logBytes;
    try {
      await this.#file.write(record, 0, record.length, at);
      await this.#file.datasync();
    } catch (error) {
      // Leave no half-written record for the next append to follow. If even
      // that fails, or the fsync failed (the page cache may have dropped the
      // dirty pages, so the file's contents are unknown), refuse further
      // commits until the store is reopened and the log replayed.
      const failure = ioError('append to the log', error);
      const cut = await this.#file.truncate(at).then(
        () => true,
        () => false,
      );
      if (!cut || failure.kind !== 'no-space') this.#broken = failure;
      throw failure;
    }
    this.#logBytes += record.length;
    this.#stats.bytesWritten += record.length;
  }

  #apply(ops: readonly NvOp[]): void {
    for (const op of ops) {
      const old = this.#entries.get(op.key);
      if (old !== undefined) this.#liveBytes -= liveSize(op.key, old);
      if (op.op === 'put') this.#liveBytes += liveSize(op.key, op.value);
    }
    applyOps(this.#entries, ops);
  }

  #shouldCompact(): boolean {
    const { compactMinBytes, compactRatio } = this.#options;
    return this.#logBytes >= compactMinBytes && this.#logBytes > compactRatio * this.#liveBytes;
  }

  /** Writes the live state to a new file, fsyncs it, renames it over the log and fsyncs the directory. */
  async #compact(): Promise<void> {
    const target = path.join(this.#dir, COMPACT_FILE);
    const file = await io('create compacted log', () => open(target, 'w', FILE_MODE));
    let size = 0;
    try {
      await file.chmod(FILE_MODE);
      for (const chunk of [encodeFileHeaderV2(), ...this.#snapshotRecords()]) {
        await file.write(chunk, 0, chunk.length, size);
        size += chunk.length;
      }
      await file.sync();
      await rename(target, path.join(this.#dir, LOG_FILE));
    } catch (error) {
      await file.close().catch(() => {});
      await rm(target, { force: true }).catch(() => {});
      throw ioError('compact the log', error);
    }
    await syncDir(this.#dir).catch(() => {});
    await this.#file.close().catch(() => {});
    this.#file = file;
    this.#encode = encodeRecordV2;
    this.#logBytes = size;
    this.#stats.bytesWritten += size;
    this.#stats.compactions++;
  }

  *#snapshotRecords(): Generator<Uint8Array> {
    let ops: NvOp[] = [];
    let size = 0;
    for (const [key, value] of this.#entries) {
      ops.push({ op: 'put', key, value });
      size += liveSize(key, value);
      if (size < this.#options.snapshotChunkBytes) continue;
      yield encodeRecordV2({ kind: 'snapshot', seq: this.#seq, ops });
      ops = [];
      size = 0;
    }
    yield encodeRecordV2({ kind: 'snapshot-end', seq: this.#seq, ops });
  }

  #checkOpen(): void {
    if (this.#closed) throw new HalError('device-unavailable', `store ${this.#dir} is closed`);
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#broken)
      throw new HalError(this.#broken.kind, `store ${this.#dir} needs reopening: ${this.#broken.message}`);
  }
}

interface OpenState {
  version: 1 | 2;
  entries: Map<string, Uint8Array>;
  seq: number;
  logBytes: number;
  tornBytes: number;
  bytesWritten: number;
}

/** Reads and replays the log, creating it when absent and cutting off a torn tail. */
async function loadLog(dir: string): Promise<OpenState> {
  const logPath = path.join(dir, LOG_FILE);
  await io('remove stale compaction', () => rm(path.join(dir, COMPACT_FILE), { force: true }));
  const bytes = await readFile(logPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw ioError('read the log', error);
  });
  if (bytes === undefined) {
    const header = encodeFileHeaderV2();
    await createFile(dir, LOG_FILE, header);
    return {
      version: 2,
      entries: new Map(),
      seq: 0,
      logBytes: header.length,
      tornBytes: 0,
      bytesWritten: header.length,
    };
  }
  // A plain Uint8Array view: Buffer#slice would share memory instead of copying.
  const log = replayAnyLog(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), logPath);
  if (log.tornBytes > 0) {
    const file = await io('open log', () => open(logPath, 'r+'));
    try {
      await io('cut the torn tail', async () => {
        await file.truncate(log.validBytes);
        await file.sync();
      });
    } finally {
      await file.close();
    }
  }
  return {
    version: log.version,
    entries: log.entries,
    seq: log.seq,
    logBytes: log.validBytes,
    tornBytes: log.tornBytes,
    bytesWritten: 0,
  };
}

/** Creates `name` in `dir` atomically: write a temporary file, fsync, rename, fsync the directory. */
async function createFile(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = path.join(dir, `${name}.new`);
  await io(`create ${name}`, async () => {
    const file = await open(temp, 'w', FILE_MODE);
    try {
      await file.chmod(FILE_MODE);
      await file.write(bytes, 0, bytes.length, 0);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path.join(dir, name));
    await syncDir(dir);
  });
}

/** Makes a rename or file creation in `dir` durable (POSIX: fsync on the directory). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function io<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw ioError(what, error);
  }
}

function ioError(what: string, error: unknown): HalError {
  if (error instanceof HalError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const kind = code === 'ENOSPC' || code === 'EDQUOT' ? 'no-space' : 'device-unavailable';
  return new HalError(kind, `cannot ${what}: ${(error as Error).message}`, { cause: error });
}

function liveSize(key: string, value: Uint8Array): number {
  return key.length + value.length + LIVE_OVERHEAD_BYTES;
}

function copyOp(op: NvOp): NvOp {
  return op.op === 'put' ? { op: 'put', key: op.key, value: op.value.slice() } : { op: 'del', key: op.key };
}

/** UTF-16 code unit order, as hal NvStore.scan promises (not locale order). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
