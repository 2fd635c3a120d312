import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HalError } from '../hal/index.js';

/**
 * The native classes of npm `pcsclite` (santigimeno/node-pcsclite), used
 * directly instead of through its JS wrapper: the wrapper hides an empty
 * reader list and shares one native object (and its mutex) between status
 * watching and transmitting, so a slow SCardTransmit could block the event
 * loop's status callback. Here a reader's status watcher and its connection
 * are separate native objects.
 */
export interface NativePcscLite {
  /** Calls back with the multi-string reader list (NUL separated) on every change, or an error once. */
  start(callback: (error: Error | undefined, readers?: Buffer) => void): void;
  close(): void;
}

export interface NativeCardReader {
  /** Starts a status thread; calls back with dwEventState and the ATR on every change. Once per object. */
  get_status(callback: (error: Error | undefined, state?: number, atr?: Buffer) => void): void;
  _connect(share: number, protocol: number, callback: (error: Error | null, protocol?: number) => void): void;
  _transmit(
    data: Buffer,
    responseLength: number,
    protocol: number,
    callback: (error: Error | null, response?: Buffer) => void,
  ): void;
  _disconnect(disposition: number, callback: (error: Error | null) => void): void;
  close(): void;
  on(event: '_end', listener: () => void): void;
}

export interface PcscNative {
  PCSCLite: new () => NativePcscLite;
  CardReader: new (name: string) => NativeCardReader;
}

/** PC/SC constants (pcsc-lite pcsclite.h; the same values on Windows' winscard). */
export const SCARD = {
  SHARE_EXCLUSIVE: 1,
  SHARE_SHARED: 2,
  PROTOCOL_T0: 1,
  PROTOCOL_T1: 2,
  LEAVE_CARD: 0,
  RESET_CARD: 1,
  UNPOWER_CARD: 2,
  STATE_CHANGED: 0x2,
  STATE_UNKNOWN: 0x4,
  STATE_UNAVAILABLE: 0x8,
  STATE_EMPTY: 0x10,
  STATE_PRESENT: 0x20,
  STATE_EXCLUSIVE: 0x80,
  STATE_INUSE: 0x100,
  STATE_MUTE: 0x200,
} as const;

/**
 * node-pcsclite's CardReader constructor leaves its thread handle
 * uninitialised, and its destructor joins that handle: letting the garbage
 * collector destroy a reader that never watched status can crash the
 * process. Every native reader is therefore kept alive here (a few hundred
 * bytes each, one per reader attach and per stuck connection).
 */
const KEEP_ALIVE = new Set<NativeCardReader>();

let loaded: PcscNative | undefined;

/** Loads the addon once. Throws HalError 'device-unavailable' when it was not built. */
export function pcscNative(): PcscNative {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  let addon: PcscNative;
  try {
    const root = dirname(require.resolve('pcsclite/package.json'));
    const bindings = createRequire(join(root, 'index.js'))('bindings') as (opts: object) => PcscNative;
    addon = bindings({ bindings: 'pcsclite', module_root: root });
  } catch (e) {
    throw new HalError(
      'device-unavailable',
      'the pcsclite native module is not built: install libpcsclite-dev (scripts/pcsc-setup.sh), then `npm ci`',
      { cause: e },
    );
  }
  // The addon emits '_end' through `this.emit` when a status thread ends.
  const proto = addon.CardReader.prototype as unknown as Record<string, unknown>;
  for (const key of ['on', 'once', 'emit', 'removeListener', 'removeAllListeners', 'listeners']) {
    proto[key] ??= (EventEmitter.prototype as unknown as Record<string, unknown>)[key];
  }
  loaded = addon;
  return addon;
}

/** A native reader object for `name`, kept alive for the life of the process (see KEEP_ALIVE). */
export function nativeReader(name: string): NativeCardReader {
  const reader = new (pcscNative().CardReader)(name);
  KEEP_ALIVE.add(reader);
  return reader;
}

/**
 * Native objects for connections, idle, by reader name. Each holds a PC/SC
 * context (one pcscd thread) that only its destructor would release, and it
 * must never be destroyed (KEEP_ALIVE): so readers borrow one and give it
 * back on close, and a process needs as many as it has open readers per name.
 */
const IDLE_CONNECTIONS = new Map<string, NativeCardReader[]>();

export function borrowConnectionNative(name: string): NativeCardReader {
  return IDLE_CONNECTIONS.get(name)?.pop() ?? nativeReader(name);
}

/** Gives back an object with no handle and no call in flight. */
export function returnConnectionNative(name: string, native: NativeCardReader): void {
  const idle = IDLE_CONNECTIONS.get(name) ?? [];
  if (!idle.includes(native)) idle.push(native);
  IDLE_CONNECTIONS.set(name, idle);
}

/** Splits a PC/SC multi-string ("a\0b\0\0") into names. */
export function parseReaderList(raw: Buffer | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .toString('utf8')
    .split('\0')
    .filter((name) => name.length > 0);
}
