import { AtEngine, type AtEngineOptions } from './at-engine.js';
import { DIALECTS, type Dialect, type DialectName, detectDialect } from './dialect.js';
import { ModemBattery, type ModemBatteryOptions } from './modem-battery.js';
import { ModemCardReader, type ModemCardReaderOptions } from './modem-card-reader.js';
import { ModemRadioLink, type ModemRadioLinkOptions } from './modem-radio-link.js';

export interface ModemOptions extends AtEngineOptions {
  /** Skip detection and speak this dialect. */
  dialect?: DialectName;
  /** Extra commands to run after the dialect's init on every (re)start. */
  init?: string[];
  reader?: Omit<ModemCardReaderOptions, 'logger'>;
}

/**
 * A cellular modem on its AT port: the AT engine, the dialect found by ATI /
 * AT+CGMM, and the HAL objects on top (card reader, radio link, battery).
 */
export class Modem {
  readonly at: AtEngine;
  readonly dialect: Dialect;
  readonly reader: ModemCardReader;
  readonly #links: ModemRadioLink[] = [];

  private constructor(at: AtEngine, dialect: Dialect, reader: ModemCardReader) {
    this.at = at;
    this.dialect = dialect;
    this.reader = reader;
  }

  /**
   * Opens the port, identifies the modem, switches on its URCs and reads
   * whether a SIM is in. Rejects like AtEngine.open.
   */
  static async open(options: ModemOptions): Promise<Modem> {
    const at = await AtEngine.open(options);
    try {
      const name = options.dialect ?? (await identify(at));
      const dialect = DIALECTS[name];
      await at.setInit([...dialect.init, ...(options.init ?? [])]);
      const reader = new ModemCardReader(at, dialect, {
        ...options.reader,
        ...(options.logger ? { logger: options.logger } : {}),
      });
      await reader.refresh();
      return new Modem(at, dialect, reader);
    } catch (e) {
      await at.close();
      throw e;
    }
  }

  /** A RadioLink on this modem's registration; `connect` is the data path (see ModemRadioLinkOptions). */
  radioLink(options: ModemRadioLinkOptions = {}): ModemRadioLink {
    const link = new ModemRadioLink(this.at, options);
    this.#links.push(link);
    return link;
  }

  battery(options: ModemBatteryOptions = {}): ModemBattery {
    return new ModemBattery(this.at, options);
  }

  /** Stops the reader and links and closes the port; idempotent. */
  async close(): Promise<void> {
    this.reader.stop();
    for (const link of this.#links.splice(0)) link.stop();
    await this.at.close();
  }
}

/** ATI (V.250 §6.1.3) and AT+CGMM (TS 27.007 §5.2); either may be missing on a given modem. */
async function identify(at: AtEngine): Promise<DialectName> {
  const text: string[] = [];
  for (const command of ['ATI', 'AT+CGMM']) {
    try {
      text.push(...(await at.command(command)).lines);
    } catch {
      // A modem without ATI still has AT+CGMM, and vice versa; generic otherwise.
    }
  }
  return detectDialect(text.join('\n'));
}
