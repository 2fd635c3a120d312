import { encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import { bytesEqual } from '../bytes.js';
import type { Category } from '../protocol/index.js';
import type { Stub } from './local-record.js';
import { readValue } from './nv-value.js';
import { splitKey } from './stored-record.js';

/**
 * [0094] substance being fetched, kept in NV so a fetch cut by a link drop
 * (or a power cut) resumes where it stopped instead of starting over:
 *   p/<category>/<id>            which version is coming, and how many bytes are here
 *                                (none yet: a fetch marked due, to be made by a sync)
 *   q/<category>/<id>/<offset>   one received chunk (offset zero-padded, so a scan is in order)
 * Each chunk lands in one commit with the progress that counts it.
 */
export interface FetchProgress extends Stub {
  seq: number;
  got: number;
}

const progressKey = (c: Category, id: string) => `p/${c}/${id}`;
const chunkPrefix = (c: Category, id: string) => `q/${c}/${id}/`;

export class PartialFetches {
  constructor(private readonly nv: NvStore) {}

  progress(category: Category, id: string): Promise<FetchProgress | undefined> {
    return readValue<FetchProgress>(this.nv, progressKey(category, id));
  }

  /**
   * Marks these versions' substance as due, in one commit: a fetch of the
   * same version already under way keeps what it got; one of another version
   * is forgotten with its chunks.
   */
  async markDue(
    wanted: readonly { category: Category; id: string; seq: number; stub: Stub }[],
  ): Promise<void> {
    const ops: NvOp[] = [];
    for (const { category, id, seq, stub } of wanted) {
      const held = await this.progress(category, id);
      if (held !== undefined && held.seq === seq && bytesEqual(held.hash, stub.hash)) continue;
      if (held !== undefined) ops.push(...(await this.forget(category, id)));
      const due: FetchProgress = { seq, size: stub.size, hash: stub.hash, got: 0 };
      ops.push({ op: 'put', key: progressKey(category, id), value: encode(due) });
    }
    await this.nv.commit(ops);
  }

  /** The records with a fetch due or under way, in key order. */
  async due(): Promise<{ category: Category; id: string }[]> {
    return (await this.nv.scan('p/')).map(({ key }) => splitKey(key));
  }

  /** Keeps one chunk and the progress that counts it, in one commit. */
  async save(
    category: Category,
    id: string,
    progress: FetchProgress,
    bytes: Uint8Array,
  ): Promise<FetchProgress> {
    const next = { ...progress, got: progress.got + bytes.length };
    await this.nv.commit([
      {
        op: 'put',
        key: `${chunkPrefix(category, id)}${String(progress.got).padStart(12, '0')}`,
        value: bytes,
      },
      { op: 'put', key: progressKey(category, id), value: encode(next) },
    ]);
    return next;
  }

  /** The chunks received, joined in order. */
  async assemble(category: Category, id: string): Promise<Uint8Array> {
    const chunks = await this.nv.scan(chunkPrefix(category, id));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.value.length, 0));
    let at = 0;
    for (const { value } of chunks) {
      out.set(value, at);
      at += value.length;
    }
    return out;
  }

  /** Forgets a fetch and what came of it. */
  async discard(category: Category, id: string): Promise<void> {
    await this.nv.commit(await this.forget(category, id));
  }

  /** The operations that forget a fetch (to commit with whatever ends it). */
  async forget(category: Category, id: string): Promise<NvOp[]> {
    const chunks = await this.nv.scan(chunkPrefix(category, id));
    return [
      { op: 'del', key: progressKey(category, id) },
      ...chunks.map(({ key }): NvOp => ({ op: 'del', key })),
    ];
  }
}
