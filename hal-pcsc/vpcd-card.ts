import { connect, type Socket } from 'node:net';
import { HalError } from '../hal/index.js';
import { VIRTUAL_ATR } from '../uicc/index.js';
import { decodeFrames, encodeFrame, VPCD_CONTROL } from './vpcd-framing.js';

/** Where vsmartcard-vpcd listens for the card of its first reader, "Virtual PCD 00 00". */
export const VPCD_DEFAULT_PORT = 35963;

export interface VpcdCardOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 35963 (reader "Virtual PCD 00 00"); 35964 is "Virtual PCD 00 01". */
  port?: number;
  /** ATR sent on request; default the card's own (`VIRTUAL_ATR`, T=0 only). */
  atr?: Uint8Array;
  /** Bound on the TCP connect; default 2000 ms. */
  connectTimeoutMs?: number;
}

/** The card side vpcd talks to: a VirtualUicc, or any chip that answers APDUs the same way. */
export interface VirtualChip {
  /** Cold or warm reset; returns the ATR (ignored: the ATR vpcd sees is `VpcdCardOptions.atr`). */
  powerOn(): Uint8Array;
  powerOff(): void;
  /** One command APDU in, response data + SW1 SW2 out; never throws. */
  process(apdu: Uint8Array): Uint8Array;
}

/** One APDU as it crossed the virtual wire, hex without spaces. */
export interface VpcdApduRecord {
  command: string;
  response: string | undefined;
}

/** Fault on the first APDU for which `match` is true: the card never answers it. */
export interface VpcdFault {
  match: (apdu: Uint8Array) => boolean;
  /** 'yank' (default): the card leaves the reader, after `afterMs`; 'stall': it stays in and stays silent. */
  action?: 'yank' | 'stall';
  /** For 'yank': hold the command this long first (default 0). */
  afterMs?: number;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase();

/**
 * A VirtualUicc put into vsmartcard-vpcd's reader over its TCP protocol, so
 * pcscd (and everything on PC/SC) sees it as a physical card. Connecting is
 * inserting; `remove()` (or `yank()`) disconnects, which pcscd notices at its
 * next presence poll (~400 ms).
 *
 * vpcd asks with framed messages (vpcd-framing.ts): controls power off/on,
 * reset, and "send ATR" (also its presence poll, answered in any power
 * state), or a command APDU, answered with response data + SW1 SW2.
 */
export class VpcdCard {
  readonly card: VirtualChip;
  readonly atr: Uint8Array;
  readonly #socket: Socket;
  readonly #closed: Promise<void>;
  readonly #traffic: VpcdApduRecord[] = [];
  #buffer: Uint8Array = new Uint8Array(0);
  #fault: VpcdFault | undefined;
  #seen = false;
  #seenListeners: (() => void)[] = [];

  private constructor(card: VirtualChip, socket: Socket, atr: Uint8Array) {
    this.card = card;
    this.atr = atr;
    this.#socket = socket;
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', () => {});
  }

  /**
   * Inserts `card` into the vpcd reader at host:port. Rejects HalError
   * 'device-unavailable' when nothing listens there (vpcd is loaded by pcscd).
   */
  static async insert(card: VirtualChip, options: VpcdCardOptions = {}): Promise<VpcdCard> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? VPCD_DEFAULT_PORT;
    const socket = await openSocket(host, port, options.connectTimeoutMs ?? 2000);
    return new VpcdCard(card, socket, (options.atr ?? VIRTUAL_ATR).slice());
  }

  /** Whether the connection to vpcd is still up (the card is in the reader). */
  get inserted(): boolean {
    return !this.#socket.destroyed;
  }

  /** Resolves when the card leaves the reader, by `remove()`, `yank()` or vpcd closing. */
  closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Resolves once vpcd has talked to this card (its first ATR poll), i.e.
   * pcscd sees it; rejects 'timeout' after `timeoutMs` (another card already
   * in that reader, or pcscd not polling).
   */
  seen(timeoutMs = 3000): Promise<void> {
    if (this.#seen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new HalError('timeout', `vpcd did not poll the card within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#seenListeners.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Takes the card out cleanly; resolves when the connection is closed. */
  async remove(): Promise<void> {
    this.#socket.end();
    this.#socket.destroySoon();
    await this.#closed;
  }

  /** Pulls the card at once (connection reset), even in the middle of a command. */
  yank(): void {
    this.#socket.resetAndDestroy();
  }

  /** Arms a fault for the next APDU matching `fault.match` (see VpcdFault); replaces an armed one. */
  failOnApdu(fault: VpcdFault): void {
    this.#fault = fault;
  }

  /** Every APDU vpcd sent, with the card's answer (undefined when pulled instead). */
  traffic(): VpcdApduRecord[] {
    return this.#traffic.map((r) => ({ ...r }));
  }

  #receive(chunk: Buffer): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    const { frames, rest } = decodeFrames(joined);
    this.#buffer = rest;
    for (const frame of frames) {
      if (this.#socket.destroyed) return;
      this.#handle(frame);
    }
  }

  #handle(frame: Uint8Array): void {
    if (frame.length === 1) {
      this.#control(frame[0]!);
      return;
    }
    const fault = this.#fault;
    if (fault?.match(frame)) {
      this.#fault = undefined;
      this.#traffic.push({ command: hex(frame), response: undefined });
      if (fault.action === 'stall') return;
      if (fault.afterMs) setTimeout(() => this.yank(), fault.afterMs);
      else this.yank();
      return;
    }
    const response = this.card.process(frame);
    this.#traffic.push({ command: hex(frame), response: hex(response) });
    this.#socket.write(encodeFrame(response));
  }

  #control(code: number): void {
    switch (code) {
      case VPCD_CONTROL.powerOff:
        this.card.powerOff();
        return;
      case VPCD_CONTROL.powerOn:
      case VPCD_CONTROL.reset:
        this.card.powerOn();
        return;
      case VPCD_CONTROL.atr:
        // Also vpcd's presence poll: answered powered or not, since an empty reply means "no card".
        this.#socket.write(encodeFrame(this.atr));
        this.#markSeen();
        return;
      default:
        // Unknown controls have no reply in the protocol; ignoring keeps the stream in step.
        return;
    }
  }

  #markSeen(): void {
    if (this.#seen) return;
    this.#seen = true;
    for (const listener of this.#seenListeners.splice(0)) listener();
  }
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new HalError('timeout', `connecting to vpcd at ${host}:${port} took over ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(
        new HalError(
          'device-unavailable',
          `no vpcd reader listens on ${host}:${port}: install vsmartcard-vpcd and (re)start pcscd ` +
            '(scripts/pcsc-setup.sh does both)',
          { cause: e },
        ),
      );
    });
  });
}
