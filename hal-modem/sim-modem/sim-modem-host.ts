import { PtyPair } from './pty-pair.js';
import { SimModem, type SimModemOptions } from './sim-modem.js';

export interface SimModemHostOptions extends SimModemOptions {
  /** Path of the terminal's end of the tty; default a fresh temp path. */
  link?: string;
}

/**
 * A SimModem on a socat pty pair: `path` is the tty the terminal opens, as it
 * would open /dev/ttyUSB2. `unplug()`/`replug()` make the device vanish and
 * come back (a USB modem re-enumerating after a reboot); the modem powers up
 * again (RDY) on replug.
 */
export class SimModemHost {
  readonly modem: SimModem;
  readonly #pair: PtyPair;

  private constructor(modem: SimModem, pair: PtyPair) {
    this.modem = modem;
    this.#pair = pair;
  }

  /** Rejects with an Error naming the 'socat' package and scripts/socat-setup.sh when socat is missing. */
  static async start(options: SimModemHostOptions): Promise<SimModemHost> {
    const pair = await PtyPair.open(options.link === undefined ? {} : { link: options.link });
    const modem = new SimModem(options);
    try {
      await modem.attach(pair.simLink);
    } catch (e) {
      await pair.close();
      throw e;
    }
    return new SimModemHost(modem, pair);
  }

  /** The tty for the modem HAL (AtEngine / Modem.open). */
  get path(): string {
    return this.#pair.link;
  }

  /** The device disappears: both ptys are destroyed. */
  async unplug(): Promise<void> {
    await this.modem.detach();
    await this.#pair.unplug();
  }

  /** The device comes back under the same path and boots (RDY …). */
  async replug(options: { bootDelayMs?: number } = {}): Promise<void> {
    await this.#pair.replug();
    await this.modem.attach(this.#pair.simLink);
    if (options.bootDelayMs) await new Promise((r) => setTimeout(r, options.bootDelayMs));
    this.modem.powerUp();
  }

  async close(): Promise<void> {
    await this.modem.detach();
    await this.#pair.close();
  }
}
