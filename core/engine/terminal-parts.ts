import type {
  Battery,
  CardReader,
  Clock,
  IdleSensor,
  NvStore,
  RadioLink,
  UserAgent,
} from '../../hal/index.js';
import type { Logger } from '../logger.js';
import type { Mutex } from '../mutex.js';
import type { Category } from '../protocol/index.js';
import type { RecordStore } from '../store/record-store.js';
import type { TerminalConfig } from '../store/terminal-config.js';
import type { SealedData } from './sealed-data.js';
import type { TriggerSettings } from './trigger-settings.js';

/** The HAL set a terminal runs on (FIG. 3). */
export interface TerminalHal {
  reader: CardReader;
  nv: NvStore;
  link: RadioLink;
  clock: Clock;
  agent: UserAgent;
  /** FIG. 22: needed for the battery-low trigger. */
  battery?: Battery;
  /** FIG. 21: needed for the idle trigger. */
  idle?: IdleSensor;
}

export interface TerminalOptions {
  /** Use this terminal ID on first start instead of a random one. */
  terminalId?: string;
  /** Every wait on the server ends after this long (default 15 s). */
  timeoutMs?: number;
  /** Body bytes per download page (default 256 KiB). */
  pageBytes?: number;
  /**
   * Body bytes per upload batch (default 1 MiB: a photo goes up whole in one
   * request). A larger body goes up beforehand in parts (upload-parts.ts).
   */
  batchBytes?: number;
  /** FIG. 16 demount upload: how long the link is held for it (default 30 s). */
  demountHoldMs?: number;
  /** When syncs happen besides mount and demount ([0042]–[0044], FIG. 21, FIG. 22). */
  triggers?: TriggerSettings;
  /**
   * [0023]/[0068]: with no SIM mounted the personal data opens only to the
   * terminal password (local-access.ts); may it then be edited too? Default
   * 'read-only', as [0023] prefers.
   */
  withoutSim?: 'read-only' | 'editable';
  /** [0094]: bodies above `aboveBytes` in these categories (default archive) come down as stubs. */
  lazy?: { aboveBytes: number; categories?: Category[]; chunkBytes?: number };
  /**
   * Issue 19: keep the personal data sealed at rest (sealed-data.ts): it
   * opens only with the registered SIM in, its PIN verified by the card and
   * the terminal password, and closes when the SIM leaves. A plain store is
   * sealed at the next such opening; a sealed store stays sealed whatever
   * this says (until a factory erase).
   */
  sealed?: boolean;
  logger?: Logger;
}

/** The options with their defaults filled in. */
export type Settings = Required<
  Pick<TerminalOptions, 'timeoutMs' | 'pageBytes' | 'batchBytes' | 'demountHoldMs'>
> &
  Pick<TerminalOptions, 'triggers' | 'withoutSim' | 'lazy' | 'sealed'>;

/**
 * An upload batch's body bytes unless `batchBytes` says otherwise. Issue 20:
 * at 256 KiB a 1 MB photo went up in parts, staged on the server and then
 * copied into its record: two writes of it and five requests, 30–65 ms a
 * photo against 15–22 ms sent whole in one batch (loopback, SQLite file).
 */
export const DEFAULT_BATCH_BYTES = 1024 * 1024;

export function settingsOf(options: TerminalOptions): Settings {
  return {
    timeoutMs: options.timeoutMs ?? 15_000,
    pageBytes: options.pageBytes ?? 256 * 1024,
    batchBytes: options.batchBytes ?? DEFAULT_BATCH_BYTES,
    demountHoldMs: options.demountHoldMs ?? 30_000,
    triggers: options.triggers,
    withoutSim: options.withoutSim,
    lazy: options.lazy,
    sealed: options.sealed,
  };
}

/** What every part of a terminal shares. */
export interface TerminalParts {
  hal: TerminalHal;
  terminalId: string;
  settings: Settings;
  log: Logger;
  /** Area 6b (FIG. 5): identity, terminal password, registration. */
  config: TerminalConfig;
  /** Area 6a (FIG. 5): the personal data. */
  records: RecordStore;
  /** The one lock: syncs, registration and card access never overlap. */
  mutex: Mutex;
  /** Area 6a sealed at rest (issue 19): opened with SIM, PIN and password, closed when the SIM leaves. */
  seal: SealedData;
}

/**
 * The slice of {@link TerminalParts} one piece of the engine uses: the
 * fields `K` and, of the HAL, the peripherals `H`. Each piece declares its
 * slice beside its code, so what it can reach is what it says it uses (as an
 * embedded-hal driver owns exactly its peripherals); a piece that hands its
 * parts on declares the slices it hands on too. Only `Terminal` holds the
 * whole.
 */
export type PartsOf<
  K extends Exclude<keyof TerminalParts, 'hal'> = never,
  H extends keyof TerminalHal = never,
> = Pick<TerminalParts, K> & { hal: Pick<TerminalHal, H> };
