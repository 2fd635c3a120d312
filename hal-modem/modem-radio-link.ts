import { type ByteStream, HalError, type LinkState, type RadioLink, type Unsubscribe } from '../hal/index.js';
import type { AtEngine } from './at-engine.js';
import { fields, lineWith } from './dialect.js';

export interface ModemRadioLinkOptions {
  /**
   * The data path: on a Pi the modem's data goes through the OS network
   * (wwan0 / ppp0 / usb0), so this opens e.g. a TCP or TLS stream to the
   * server. Without it `open()` rejects 'not-supported'.
   */
  connect?: () => Promise<ByteStream>;
  /** Re-read registration and signal this often. Default 10 000 ms; 0 = only on `refresh()` and URCs. */
  pollMs?: number;
}

/** <stat> 1 (registered, home) or 5 (registered, roaming), TS 27.007 §7.2 / §10.1.22. */
const registered = (stat: number | undefined) => stat === 1 || stat === 5;

/** TS 27.007 §8.5: rssi 0–31 → −113 + 2·rssi dBm (31 = −51 dBm or better); 99 = not known. */
export function rssiToDbm(rssi: number): number | undefined {
  return rssi >= 0 && rssi <= 31 ? -113 + 2 * rssi : undefined;
}

/**
 * The radio link of a modem terminal: up while the modem is registered in
 * circuit (+CREG) or EPS (+CEREG) domain, signal from +CSQ, always metered.
 * State follows registration URCs at once and a poll for the signal.
 */
export class ModemRadioLink implements RadioLink {
  readonly #at: AtEngine;
  readonly #connect: (() => Promise<ByteStream>) | undefined;
  readonly #listeners = new Set<(state: LinkState) => void>();
  readonly #unsubscribe: Unsubscribe[];
  #creg: number | undefined;
  #cereg: number | undefined;
  #dbm: number | undefined;
  #state: LinkState = { up: false, metered: true };
  #poll: ReturnType<typeof setInterval> | undefined;

  constructor(at: AtEngine, options: ModemRadioLinkOptions = {}) {
    this.#at = at;
    this.#connect = options.connect;
    this.#unsubscribe = [
      at.onUrc((line) => this.#onUrc(line)),
      at.onEvent((event) => {
        this.#creg = undefined;
        this.#cereg = undefined;
        this.#update();
        if (event !== 'disconnected') void this.refresh().catch(() => {});
      }),
    ];
    const pollMs = options.pollMs ?? 10_000;
    if (pollMs > 0) {
      this.#poll = setInterval(() => void this.refresh().catch(() => {}), pollMs);
      this.#poll.unref?.();
    }
  }

  state(): LinkState {
    return { ...this.#state };
  }

  onState(listener: (state: LinkState) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Asks AT+CREG?, AT+CEREG? and AT+CSQ now. A modem without one of them just lacks that part. */
  async refresh(): Promise<LinkState> {
    this.#creg = await this.#query('AT+CREG?', '+CREG:');
    this.#cereg = await this.#query('AT+CEREG?', '+CEREG:');
    const { lines } = await this.#at.command('AT+CSQ', { prefix: '+CSQ:' });
    const rssi = Number(fields(lineWith(lines, '+CSQ:') ?? '+CSQ: 99', '+CSQ:')[0]);
    this.#dbm = rssiToDbm(rssi);
    this.#update();
    return this.state();
  }

  /** Rejects 'link-down' while not registered; otherwise the `connect` option's stream. */
  async open(): Promise<ByteStream> {
    if (!this.#state.up) throw new HalError('link-down', 'the modem is not registered to a network');
    if (this.#connect === undefined) throw new HalError('not-supported', 'no data path configured (connect)');
    return this.#connect();
  }

  stop(): void {
    clearInterval(this.#poll);
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /** Read form: +CREG: <n>,<stat>[,…]; the second field is <stat>. */
  async #query(command: string, prefix: string): Promise<number | undefined> {
    try {
      const { lines } = await this.#at.command(command, { prefix });
      // A URC of the same prefix (+CREG: <stat>) may sit among the lines; the answer has <n> first.
      const answer = lines
        .map((l) => (l.startsWith(prefix) ? fields(l, prefix) : []))
        .find((f) => f.length >= 2);
      return answer === undefined ? undefined : Number(answer[1]);
    } catch (e) {
      if (e instanceof HalError && e.kind === 'not-supported') return undefined;
      throw e;
    }
  }

  /** URC form: +CREG: <stat>[,<lac>,<ci>[,<AcT>]]; the first field is <stat>. */
  #onUrc(line: string): void {
    if (line.startsWith('+CREG:')) this.#creg = Number(fields(line, '+CREG:')[0]);
    else if (line.startsWith('+CEREG:')) this.#cereg = Number(fields(line, '+CEREG:')[0]);
    else return;
    this.#update();
  }

  #update(): void {
    const next: LinkState = {
      up: registered(this.#creg) || registered(this.#cereg),
      metered: true,
      ...(this.#dbm === undefined ? {} : { signalDbm: this.#dbm }),
    };
    const prev = this.#state;
    this.#state = next;
    if (prev.up === next.up && prev.signalDbm === next.signalDbm) return;
    for (const listener of [...this.#listeners]) listener(this.state());
  }
}
