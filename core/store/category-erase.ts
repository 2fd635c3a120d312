import type { NvOp, NvStore } from '../../hal/index.js';
import type { Category } from '../protocol/index.js';
import { aheadKey, CATEGORY_PREFIXES } from './stored-record.js';

/**
 * FIG. 20 S86: the operations that erase every key of the categories (their
 * records, markers and fetches in progress), with `extra` not already among
 * them, and the number of records they erase.
 */
export async function eraseOps(
  nv: NvStore,
  categories: readonly Category[],
  extra: readonly NvOp[],
): Promise<{ ops: NvOp[]; erased: number }> {
  const ops: NvOp[] = [];
  for (const category of categories) {
    for (const prefix of CATEGORY_PREFIXES) {
      for (const { key } of await nv.scan(`${prefix}${category}/`)) ops.push({ op: 'del', key });
    }
    if ((await nv.get(aheadKey(category))) !== undefined) ops.push({ op: 'del', key: aheadKey(category) });
  }
  const erased = ops.filter((op) => op.key.startsWith('r/')).length;
  const more = extra.filter((op) => !ops.some((o) => o.key === op.key));
  return { ops: [...ops, ...more], erased };
}
