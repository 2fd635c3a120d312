import { encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import type { Category } from '../protocol/index.js';
import { readValue } from '../store/nv-value.js';
import type { RecordStore } from '../store/record-store.js';
import type { TerminalConfig } from '../store/terminal-config.js';

/** What a collective erase covers, kept in NV until it is done or abandoned. */
export interface Intent {
  categories: Category[];
  factory: boolean;
}

const KEY = 'e/intent';

/**
 * The collective erase of FIG. 20 survives power loss: the intent is in NV
 * before the upload starts, and the erase itself is one commit that also
 * ends the intent, taken only when nothing of the chosen categories is
 * unsynced. After a restart an intent left behind is completed when that
 * still holds, and abandoned otherwise: unsynced data is never erased.
 */
export class EraseIntent {
  constructor(
    private readonly nv: NvStore,
    private readonly records: RecordStore,
    private readonly config: TerminalConfig,
  ) {}

  async begin(intent: Intent): Promise<void> {
    await this.nv.commit([{ op: 'put', key: KEY, value: encode(intent) }]);
  }

  async abandon(): Promise<void> {
    await this.nv.commit([{ op: 'del', key: KEY }]);
  }

  /**
   * S86: erases in one commit if nothing chosen is unsynced; resolves the
   * number of records erased, or undefined (nothing erased, intent kept).
   */
  async finish(): Promise<number | undefined> {
    const intent = await this.current();
    if (intent === undefined) return undefined;
    return this.records.eraseIfSynced(intent.categories, async () => {
      const extra: NvOp[] = [{ op: 'del', key: KEY }];
      if (intent.factory) {
        for (const key of await this.records.syncStateKeys()) extra.push({ op: 'del', key });
        extra.push(...this.config.clearOps());
      }
      return extra;
    });
  }

  /** After a restart: completes a pending erase when safe, else abandons it. */
  async resume(): Promise<'none' | 'completed' | 'abandoned'> {
    if ((await this.current()) === undefined) return 'none';
    if ((await this.finish()) !== undefined) return 'completed';
    await this.abandon();
    return 'abandoned';
  }

  current(): Promise<Intent | undefined> {
    return readValue<Intent>(this.nv, KEY);
  }
}
