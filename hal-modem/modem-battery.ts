import type { Battery, BatteryReading, Unsubscribe } from '../hal/index.js';
import type { AtEngine } from './at-engine.js';
import { AtError } from './at-errors.js';
import { fields, lineWith } from './dialect.js';

export interface ModemBatteryOptions {
  /** How often `onLow` listeners re-read the level. Default 60 000 ms. */
  pollMs?: number;
  /** For modems that report only volts (SIMCom "+CBC: 3.900V"): empty and full cell voltage. Default 3.5 V / 4.2 V. */
  emptyMillivolts?: number;
  fullMillivolts?: number;
}

interface LowWatch {
  threshold: number;
  listener: (reading: BatteryReading) => void;
  /** Undefined until the first reading after subscribing; then true while above the threshold. */
  armed: boolean | undefined;
}

/**
 * The battery as the modem measures it, from AT+CBC (TS 27.007 §8.4):
 * "+CBC: <bcs>,<bcl>[,<mV>]" (standard, Quectel) or "+CBC: <V>V" (SIMCom,
 * mapped to percent linearly between the empty and full voltages). A Pi on
 * a UPS hat may prefer hal-linux's sysfs battery.
 */
export class ModemBattery implements Battery {
  readonly #at: AtEngine;
  readonly #pollMs: number;
  readonly #empty: number;
  readonly #full: number;
  readonly #watches = new Set<LowWatch>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking = false;

  constructor(at: AtEngine, options: ModemBatteryOptions = {}) {
    this.#at = at;
    this.#pollMs = options.pollMs ?? 60_000;
    this.#empty = options.emptyMillivolts ?? 3500;
    this.#full = options.fullMillivolts ?? 4200;
  }

  /** Rejects 'not-supported' when the modem does not report a battery. */
  async read(): Promise<BatteryReading> {
    const { lines } = await this.#at.command('AT+CBC', { prefix: '+CBC:' });
    const line = lineWith(lines, '+CBC:');
    if (line === undefined) throw new AtError('not-supported', 'AT+CBC', 'AT+CBC: no +CBC line');
    const volts = /^\+CBC:\s*(\d+(?:\.\d+)?)V$/i.exec(line);
    if (volts) {
      const mv = Number(volts[1]) * 1000;
      const percent = Math.round(((mv - this.#empty) / (this.#full - this.#empty)) * 100);
      return { percent: Math.max(0, Math.min(100, percent)), charging: false };
    }
    const [bcs, bcl] = fields(line, '+CBC:').map(Number);
    // <bcs> 2 = no battery, 3 = power fault (TS 27.007 §8.4).
    if (bcs === undefined || bcl === undefined || Number.isNaN(bcl) || bcs === 2 || bcs === 3) {
      throw new AtError('not-supported', 'AT+CBC', `AT+CBC: no battery level in "${line}"`);
    }
    return { percent: Math.max(0, Math.min(100, bcl)), charging: bcs === 1 };
  }

  /**
   * Fires when the level falls from above the threshold to at or below it
   * (edge-triggered, as hal/battery.ts promises). While any listener is
   * subscribed one AT+CBC poll runs every `pollMs`, shared by all of them; a
   * listener's first reading only arms it, so a level already low when
   * subscribing waits for a rise. A failed read is skipped; a poll still
   * running when the next is due is not doubled.
   */
  onLow(thresholdPercent: number, listener: (reading: BatteryReading) => void): Unsubscribe {
    const watch: LowWatch = { threshold: thresholdPercent, listener, armed: undefined };
    this.#watches.add(watch);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#check(), this.#pollMs);
      this.#timer.unref?.();
    }
    void this.#check();
    return () => {
      this.#watches.delete(watch);
      if (this.#watches.size > 0 || this.#timer === undefined) return;
      clearInterval(this.#timer);
      this.#timer = undefined;
    };
  }

  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    const reading = await this.read().catch(() => undefined);
    this.#checking = false;
    if (reading === undefined) return;
    for (const watch of [...this.#watches]) {
      if (!this.#watches.has(watch)) continue;
      const fire = watch.armed === true && reading.percent <= watch.threshold;
      watch.armed = reading.percent > watch.threshold;
      if (fire) watch.listener({ ...reading });
    }
  }
}
