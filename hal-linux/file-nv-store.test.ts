import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHalError, type NvEntry, type NvOp, type NvStore } from '../hal/index.js';
import { describeNvStoreContract } from '../test/contracts/nv-store.contract.js';
import { FileNvStore, LOG_FILE } from './file-nv-store.js';

const text = (s: string) => new TextEncoder().encode(s);
const tempDir = () => mkdtemp(path.join(tmpdir(), 'simsync-nv-'));

describeNvStoreContract('FileNvStore', async () => {
  const dir = await tempDir();
  const store = await FileNvStore.open(dir);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** Reopens the store after every commit, so every read sees what came back from the file. */
class ReopeningStore implements NvStore {
  constructor(
    private store: FileNvStore,
    private readonly dir: string,
  ) {}
  get(key: string): Promise<Uint8Array | undefined> {
    return this.store.get(key);
  }
  scan(prefix: string): Promise<NvEntry[]> {
    return this.store.scan(prefix);
  }
  async commit(batch: readonly NvOp[]): Promise<void> {
    await this.store.commit(batch);
    await this.store.close();
    this.store = await FileNvStore.open(this.dir, { compactMinBytes: 64 });
  }
  close(): Promise<void> {
    return this.store.close();
  }
}

describeNvStoreContract('FileNvStore reopened after every commit, compacting eagerly', async () => {
  const dir = await tempDir();
  const store = new ReopeningStore(await FileNvStore.open(dir, { compactMinBytes: 64 }), dir);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** Opens, expecting a rejection; returns it. */
async function openError(dir: string): Promise<unknown> {
  return FileNvStore.open(dir).then(
    async (store) => {
      await store.close();
      throw new Error('expected open() to reject');
    },
    (error: unknown) => error,
  );
}

async function contents(dir: string): Promise<NvEntry[]> {
  const store = await FileNvStore.open(dir);
  try {
    return await store.scan('');
  } finally {
    await store.close();
  }
}

describe('FileNvStore on disk', () => {
  let dir: string;
  const log = () => path.join(dir, LOG_FILE);

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Commits `n` one-key batches without compaction; returns the log size after each. */
  async function commitNumbered(n: number): Promise<number[]> {
    const store = await FileNvStore.open(dir, { compactMinBytes: 1 << 30 });
    const sizes: number[] = [store.stats().logBytes];
    for (let i = 1; i <= n; i++) {
      await store.commit([
        { op: 'put', key: `k${i % 3}`, value: text(`value ${i}`) },
        { op: 'put', key: 'last', value: text(String(i)) },
      ]);
      sizes.push(store.stats().logBytes);
    }
    await store.close();
    return sizes;
  }

  const lastOf = async () => {
    const entries = await contents(dir);
    const last = entries.find((e) => e.key === 'last');
    return last === undefined ? 0 : Number(new TextDecoder().decode(last.value));
  };

  it('a resolved commit is in the file: a new instance reads it back', async () => {
    const store = await FileNvStore.open(dir);
    await store.commit([{ op: 'put', key: 'k', value: text('v') }]);
    await store.commit([
      { op: 'del', key: 'k' },
      { op: 'put', key: 'j', value: text('w') },
    ]);
    await store.close();
    expect(await contents(dir)).toEqual([{ key: 'j', value: text('w') }]);
  });

  it('compaction keeps the state, shrinks the log and counts what it wrote', async () => {
    const store = await FileNvStore.open(dir, { compactMinBytes: 1 << 30 });
    for (let i = 0; i < 100; i++) await store.commit([{ op: 'put', key: 'k', value: text(`v${i}`) }]);
    const before = store.stats();
    await store.compact();
    const after = store.stats();
    expect(after.logBytes).toBeLessThan(before.logBytes / 10);
    expect(after.compactions).toBe(1);
    expect(after.bytesWritten).toBe(before.bytesWritten + after.logBytes);
    await store.commit([{ op: 'put', key: 'j', value: text('after') }]);
    await store.close();
    expect(await contents(dir)).toEqual([
      { key: 'j', value: text('after') },
      { key: 'k', value: text('v99') },
    ]);
  });

  it('writes at most 3x the record size per record change, compaction included', async () => {
    const store = await FileNvStore.open(dir, { compactMinBytes: 16 * 1024 });
    const record = new Uint8Array(256).fill(7);
    const key = (i: number) => `rec/contacts/${String(i % 50).padStart(4, '0')}`;
    for (let i = 0; i < 1000; i++) await store.commit([{ op: 'put', key: key(i), value: record }]);
    const { bytesWritten, compactions, commits } = store.stats();
    await store.close();
    expect(commits).toBe(1000);
    expect(compactions).toBeGreaterThan(3);
    expect(bytesWritten / (1000 * (key(0).length + record.length))).toBeLessThanOrEqual(3);
  });

  it("a second open of the same directory rejects 'busy' until the first closes", async () => {
    const store = await FileNvStore.open(dir);
    expect(isHalError(await openError(dir), 'busy')).toBe(true);
    await store.close();
    await (await FileNvStore.open(dir)).close();
  });

  it('a lock left by a dead process is taken over', async () => {
    await writeFile(path.join(dir, 'LOCK'), '2147483646\n');
    await (await FileNvStore.open(dir)).close();
  });

  it("after close every call rejects 'device-unavailable'; close is idempotent", async () => {
    const store = await FileNvStore.open(dir);
    await store.close();
    await store.close();
    expect(isHalError(await store.get('k').catch((e: unknown) => e), 'device-unavailable')).toBe(true);
    expect(isHalError(await store.commit([]).catch((e: unknown) => e), 'device-unavailable')).toBe(true);
  });

  it('rejects a key that is not well-formed Unicode, changing nothing', async () => {
    const store = await FileNvStore.open(dir);
    await expect(store.commit([{ op: 'put', key: 'bad\uD800', value: text('v') }])).rejects.toThrow(
      TypeError,
    );
    expect(await store.scan('')).toEqual([]);
    await store.close();
  });

  it("a flipped byte anywhere is 'store-corrupt', in the final record too (every sector of it holds data: no tear)", async () => {
    await commitNumbered(8);
    const original = await readFile(log());
    for (let at = 0; at < original.length; at++) {
      const damaged = Buffer.from(original);
      damaged[at] = (damaged[at] as number) ^ 0x40;
      await writeFile(log(), damaged);
      const error = await openError(dir);
      expect(isHalError(error, 'store-corrupt'), `flip at ${at}`).toBe(true);
    }
  });

  it('a final record whose last sector was never written (zeros) is a torn append: the previous state', async () => {
    const sizes = await commitNumbered(8);
    const original = await readFile(log());
    const finalStart = sizes[7] as number;
    const damaged = Buffer.from(original);
    damaged.fill(0, Math.max(finalStart, Math.floor((original.length - 1) / 512) * 512));
    await writeFile(log(), damaged);
    expect(await lastOf()).toBe(7);
  });

  it('a tail torn at any byte of the final record opens as the previous state, and commits go on', async () => {
    const sizes = await commitNumbered(5);
    const original = await readFile(log());
    for (let cut = sizes[4] as number; cut < original.length; cut++) {
      await writeFile(log(), original.subarray(0, cut));
      expect(await lastOf(), `cut at ${cut}`).toBe(4);
      expect((await stat(log())).size).toBe(sizes[4]);
    }
    const store = await FileNvStore.open(dir);
    await store.commit([{ op: 'put', key: 'last', value: text('6') }]);
    await store.close();
    expect(await lastOf()).toBe(6);
  });

  it('a tail extended with zeros (size written, data not) opens as the state before it', async () => {
    await commitNumbered(3);
    await writeFile(log(), Buffer.concat([await readFile(log()), Buffer.alloc(4096)]));
    const store = await FileNvStore.open(dir);
    expect(store.stats().tornBytesDiscarded).toBe(4096);
    await store.close();
    expect(await lastOf()).toBe(3);
  });

  it("a damaged file header or a foreign file is 'store-corrupt'", async () => {
    await commitNumbered(1);
    await writeFile(log(), 'not a simsync store at all');
    expect(isHalError(await openError(dir), 'store-corrupt')).toBe(true);
    await writeFile(log(), Buffer.alloc(0));
    expect(isHalError(await openError(dir), 'store-corrupt')).toBe(true);
  });

  it('a stale compaction file left by a crash is ignored and removed', async () => {
    await commitNumbered(2);
    await writeFile(path.join(dir, 'nv.log.compact'), 'half-written');
    expect(await lastOf()).toBe(2);
    await expect(stat(path.join(dir, 'nv.log.compact'))).rejects.toThrow();
  });
});

describe("FileNvStore file modes: the personal data is its owner's only (issue 13 item 8)", () => {
  let dir: string;
  let umask: number;
  const mode = async (p: string) => (await stat(p)).mode & 0o777;

  beforeEach(async () => {
    dir = await tempDir();
    // With umask 000 any mode the store did not set itself would come out 0777/0666.
    umask = process.umask(0);
  });

  afterEach(async () => {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  });

  it('makes its directory 0700 and the log, the lock and a compacted log 0600, whatever the umask', async () => {
    const nv = path.join(dir, 'terminal', 'nv');
    const store = await FileNvStore.open(nv);
    expect(await mode(nv)).toBe(0o700);
    expect(await mode(path.join(nv, LOG_FILE))).toBe(0o600);
    expect(await mode(path.join(nv, 'LOCK'))).toBe(0o600);
    await store.commit([{ op: 'put', key: 'k', value: text('v') }]);
    await store.compact();
    expect(await mode(path.join(nv, LOG_FILE))).toBe(0o600);
    await store.close();
  });

  it('tightens a store an earlier version left world-readable', async () => {
    await (await FileNvStore.open(dir)).close();
    await chmod(dir, 0o755);
    await chmod(path.join(dir, LOG_FILE), 0o644);
    const store = await FileNvStore.open(dir);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, LOG_FILE))).toBe(0o600);
    await store.close();
  });
});
