import { PcscCardReader, type PcscReaderOptions } from './pcsc-card-reader.js';
import { PcscContext, type PcscContextOptions, type ReaderSelector } from './pcsc-context.js';

export interface OpenPcscReaderOptions extends Omit<PcscReaderOptions, 'owns'>, PcscContextOptions {
  /** Reader name (exact, or a unique case-insensitive substring) or index in pcscd's list; default 0. */
  reader?: ReaderSelector;
  /** How long to wait for a matching reader to appear; default 0 (it must be listed now). */
  waitMs?: number;
}

/**
 * One call for the common case (`simsync terminal --card pcsc`): connect to
 * pcscd, pick a reader, follow it. The reader owns its context: `close()`
 * ends both. Rejects 'device-unavailable' when pcscd is not running (the
 * message says how to install and start it) or no reader matches (the
 * message lists the readers there are).
 */
export async function openPcscReader(options: OpenPcscReaderOptions = {}): Promise<PcscCardReader> {
  const context = await PcscContext.open(options);
  try {
    const name = await context.waitForReader(options.reader ?? 0, options.waitMs ?? 0);
    return new PcscCardReader(context, name, { ...options, owns: context });
  } catch (e) {
    await context.close();
    throw e;
  }
}
