import { decode } from 'cborg';
import type { NvStore } from '../../hal/index.js';

/** The CBOR value kept under `key`, or undefined when there is none. */
export async function readValue<T>(nv: NvStore, key: string): Promise<T | undefined> {
  const raw = await nv.get(key);
  return raw === undefined ? undefined : (decode(raw) as T);
}
