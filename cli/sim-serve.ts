import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Logger } from '../core/index.js';
import { isHalError } from '../hal/index.js';
import { VPCD_DEFAULT_PORT, VpcdCard } from '../hal-pcsc/index.js';
import { isUiccError, VirtualUicc, type VirtualUiccProfile } from '../uicc/index.js';

/** `simsync sim serve` flags; each overrides the same field of `profileFile`. */
export interface SimServeOptions {
  /** ICCID with its Luhn check digit (required here or in the profile file). */
  iccid?: string;
  /** IMSI, 6–15 digits (required here or in the profile file). */
  imsi?: string;
  pin?: string;
  puk?: string;
  /** vpcd's port: 35963 is reader "Virtual PCD 00 00", 35964 "Virtual PCD 00 01". */
  port?: number;
  host?: string;
  terminalIdFile?: boolean;
  t0GetResponse?: boolean;
  strictLe?: boolean;
  classes?: 'both' | 'usim-only' | 'sim-only';
  /** false: a card with PIN1 disabled (needs no PIN). */
  pin1Enabled?: boolean;
  /** ADF_USIM answers SELECT like a sysmoISIM-SJA2: 84, no file identifier 83. */
  adfFcpWithoutFileId?: boolean;
  /** The card's Milenage key K, 32 hex digits (with `opc` or `op`): the card answers AUTHENTICATE. Never logged. */
  ki?: string;
  /** OPc, 32 hex digits. */
  opc?: string;
  /** OP, 32 hex digits (OPc is derived from it). */
  op?: string;
  /** JSON file with any VirtualUiccProfile fields (phonebook, adnRecords, …). */
  profileFile?: string;
}

/** For tests and embedding: stop without a signal, and see the card once it is in. */
export interface SimServeControl {
  signal?: AbortSignal;
  onInserted?: (card: VpcdCard) => void;
}

const PROFILE_FILE = z
  .object({
    iccid: z.string(),
    imsi: z.string(),
    pin: z.string(),
    puk: z.string(),
    adnRecords: z.number().int().min(1).max(254),
    adnAlphaLength: z.number().int().min(0).max(241),
    phonebook: z.array(z.object({ name: z.string(), number: z.string() }).strict()),
    terminalIdFile: z.boolean(),
    terminalIdRecords: z.number().int().min(1).max(254),
    t0GetResponse: z.boolean(),
    strictLe: z.boolean(),
    classes: z.enum(['both', 'usim-only', 'sim-only']),
    pin1Enabled: z.boolean(),
    adfFcpWithoutFileId: z.boolean(),
    // Milenage K and OPc/OP as 32 hex digits; the message for a bad one does not repeat it.
    k: z.string().regex(/^[0-9a-fA-F]{32}$/, '32 hex digits'),
    opc: z.string().regex(/^[0-9a-fA-F]{32}$/, '32 hex digits'),
    op: z.string().regex(/^[0-9a-fA-F]{32}$/, '32 hex digits'),
    seqMs: z.array(z.number().int().min(0)).length(32),
  })
  .partial()
  .strict();

const RECONNECT_MS = 1000;

/** A flag or profile field missing or malformed: the command's usage, not a failure of the card. */
export class SimServeUsageError extends Error {
  override readonly name = 'SimServeUsageError';
}

/** The profile from the file (if any) with the flags on top; throws an Error that says what is wrong. */
export async function loadSimProfile(options: SimServeOptions): Promise<VirtualUiccProfile> {
  let fromFile: z.infer<typeof PROFILE_FILE> = {};
  if (options.profileFile !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(options.profileFile, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read the SIM profile ${options.profileFile}: ${(e as Error).message}`);
    }
    const parsed = PROFILE_FILE.safeParse(json);
    if (!parsed.success) {
      throw new Error(`bad SIM profile ${options.profileFile}: ${z.prettifyError(parsed.error)}`);
    }
    fromFile = parsed.data;
  }
  const { profileFile: _file, port: _port, host: _host, ki, ...flags } = options;
  for (const [flag, value] of [
    ['--ki', ki],
    ['--opc', options.opc],
    ['--op', options.op],
  ] as const) {
    if (value !== undefined && !/^[0-9a-fA-F]{32}$/.test(value)) {
      throw new SimServeUsageError(`${flag}: a Milenage key is 32 hex digits`);
    }
  }
  const defined = Object.fromEntries(Object.entries({ ...flags, k: ki }).filter(([, v]) => v !== undefined));
  // Keys from the flags replace the file's K, OPc and OP together, so a K never meets another card's OPc.
  const keysFromFlags = ki !== undefined || options.opc !== undefined || options.op !== undefined;
  const { k: _k, opc: _opc, op: _op, ...fileWithoutKeys } = fromFile;
  const profile = { ...(keysFromFlags ? fileWithoutKeys : fromFile), ...defined };
  if (profile.iccid === undefined || profile.imsi === undefined) {
    throw new SimServeUsageError('the virtual SIM needs --iccid and --imsi (or both in --profile FILE)');
  }
  if (!/^\d{18,20}$/.test(profile.iccid)) {
    throw new SimServeUsageError(`--iccid ${profile.iccid}: an ICCID is 18 to 20 digits`);
  }
  if (!/^\d{6,15}$/.test(profile.imsi)) {
    throw new SimServeUsageError(`--imsi ${profile.imsi}: an IMSI is 6 to 15 digits`);
  }
  return { ...profile, iccid: profile.iccid, imsi: profile.imsi };
}

function personalise(profile: VirtualUiccProfile): VirtualUicc {
  try {
    return new VirtualUicc(profile);
  } catch (e) {
    if (isUiccError(e)) throw new SimServeUsageError(`cannot personalise the virtual SIM: ${e.message}`);
    throw e;
  }
}

/**
 * `simsync sim serve`: puts a virtual UICC into vsmartcard-vpcd's reader so
 * pcscd (pcsc_scan, `simsync terminal --card pcsc`) sees a SIM with no
 * hardware. Runs until SIGINT/SIGTERM (or `control.signal`), then takes the
 * card out. If vpcd drops the card (pcscd restarted) it reconnects, keeping
 * the card's state (PIN tries, terminal-ID list) for the life of the process.
 * Rejects at once when nothing listens on host:port (HalError
 * 'device-unavailable', saying to install vsmartcard-vpcd and start pcscd).
 */
export async function simServe(
  options: SimServeOptions,
  log: Logger,
  control: SimServeControl = {},
): Promise<void> {
  const profile = await loadSimProfile(options);
  const uicc = personalise(profile);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? VPCD_DEFAULT_PORT;
  const where = { host, port, ...(VPCD_READERS[port] ? { reader: VPCD_READERS[port] } : {}) };
  const stop = stopSignal(control.signal);
  try {
    let card = await VpcdCard.insert(uicc, { host, port });
    for (;;) {
      // The key itself is never logged: only whether the card can answer AUTHENTICATE.
      log.info(
        { ...where, iccid: profile.iccid, imsi: profile.imsi, aka: profile.k !== undefined },
        'virtual SIM inserted',
      );
      control.onInserted?.(card);
      void card.seen().then(
        () => log.info(where, 'pcscd sees the card'),
        () => log.warn(where, 'vpcd has not polled the card: another card in that reader, or pcscd stopped?'),
      );
      await Promise.race([stop.promise, card.closed()]);
      if (stop.stopped) break;
      log.warn(where, 'vpcd dropped the card (pcscd restarted?); reconnecting');
      const next = await reconnect(uicc, host, port, stop);
      if (next === undefined) break;
      card = next;
    }
    await card.remove();
    log.info(where, 'virtual SIM removed');
  } finally {
    stop.dispose();
  }
}

/** The readers Debian's vpcd configuration gives pcscd, by port. */
const VPCD_READERS: Record<number, string> = {
  [VPCD_DEFAULT_PORT]: 'Virtual PCD 00 00',
  [VPCD_DEFAULT_PORT + 1]: 'Virtual PCD 00 01',
};

async function reconnect(
  uicc: VirtualUicc,
  host: string,
  port: number,
  stop: StopSignal,
): Promise<VpcdCard | undefined> {
  while (!stop.stopped) {
    await Promise.race([stop.promise, new Promise((resolve) => setTimeout(resolve, RECONNECT_MS))]);
    if (stop.stopped) return undefined;
    try {
      return await VpcdCard.insert(uicc, { host, port });
    } catch (e) {
      if (!isHalError(e)) throw e;
    }
  }
  return undefined;
}

interface StopSignal {
  readonly promise: Promise<void>;
  readonly stopped: boolean;
  dispose(): void;
}

function stopSignal(signal: AbortSignal | undefined): StopSignal {
  let stopped = false;
  let fire: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    fire = () => {
      stopped = true;
      resolve();
    };
  });
  process.once('SIGINT', fire);
  process.once('SIGTERM', fire);
  signal?.addEventListener('abort', fire, { once: true });
  if (signal?.aborted) fire();
  return {
    promise,
    get stopped() {
      return stopped;
    },
    dispose() {
      process.off('SIGINT', fire);
      process.off('SIGTERM', fire);
      signal?.removeEventListener('abort', fire);
    },
  };
}
