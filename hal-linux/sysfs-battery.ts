import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Battery, type BatteryReading, type Clock, HalError, type Unsubscribe } from '../hal/index.js';
import { PollLoop, withTimeout } from './poll-loop.js';

export interface SysfsBatteryOptions {
  /** Drives polling for `onLow` and the read timeout. */
  clock: Clock;
  /** The power_supply class directory (default /sys/class/power_supply). */
  root?: string;
  /** Use only this supply (e.g. 'BAT0'); default: every system battery, combined. */
  supply?: string;
  /** `onLow` polling period (default 30 s). */
  pollMs?: number;
  /** `read()` rejects 'timeout' after this long (default 2 s; some ACPI ECs are slow). */
  readTimeoutMs?: number;
}

interface SupplyFacts {
  type: string;
  status?: string;
  online?: string;
  percent?: number;
  /** energy_full or charge_full, to weight several batteries. */
  full?: number;
}

interface LowWatch {
  threshold: number;
  listener: (reading: BatteryReading) => void;
  /** undefined until the first poll; then true while above the threshold. */
  armed: boolean | undefined;
}

/** Statuses meaning the machine is on external power (kernel ABI sysfs-class-power). */
const ON_EXTERNAL_POWER = new Set(['Charging', 'Full', 'Not charging']);

/**
 * Battery from the Linux power_supply class (Documentation/ABI/testing/sysfs-class-power).
 *
 * `percent` is `capacity`, or `energy_now/energy_full` (`charge_*`) when
 * the driver gives no capacity; several system batteries (type Battery,
 * scope not Device, present) are combined weighted by their full charge.
 * `charging` is true when a non-battery supply (Mains, USB) is online or a
 * battery reports Charging, Full or Not charging. No battery rejects
 * 'device-unavailable'. `onLow` polls every `pollMs` while it has listeners;
 * like SimBattery, it fires on a fall from above the threshold to at or
 * below it, so a listener added while the level is low waits for a rise.
 */
export class SysfsBattery implements Battery {
  readonly #clock: Clock;
  readonly #root: string;
  readonly #supply: string | undefined;
  readonly #timeoutMs: number;
  readonly #watches = new Set<LowWatch>();
  readonly #poll: PollLoop;
  #polls: Promise<void> = Promise.resolve();

  constructor(options: SysfsBatteryOptions) {
    this.#clock = options.clock;
    this.#root = options.root ?? '/sys/class/power_supply';
    this.#supply = options.supply;
    this.#timeoutMs = options.readTimeoutMs ?? 2000;
    this.#poll = new PollLoop(options.clock, options.pollMs ?? 30_000, () => this.poll());
  }

  read(): Promise<BatteryReading> {
    return withTimeout(this.#clock, this.#timeoutMs, `battery under ${this.#root}`, this.#readNow());
  }

  onLow(thresholdPercent: number, listener: (reading: BatteryReading) => void): Unsubscribe {
    const watch: LowWatch = { threshold: thresholdPercent, listener, armed: undefined };
    this.#watches.add(watch);
    this.#poll.start();
    this.poll().catch(() => {});
    return () => {
      this.#watches.delete(watch);
      if (this.#watches.size === 0) this.#poll.stop();
    };
  }

  /**
   * Reads now and tells `onLow` listeners, as each polling beat does (e.g.
   * after resume from suspend). Polls run one at a time, in call order.
   * Rejects as `read()` does.
   */
  poll(): Promise<void> {
    const run = this.#polls.then(() => this.#check());
    this.#polls = run.catch(() => {});
    return run;
  }

  async #check(): Promise<void> {
    const reading = await this.read();
    for (const watch of [...this.#watches]) {
      const above = reading.percent > watch.threshold;
      const fire = !above && watch.armed === true;
      watch.armed = above;
      if (fire) watch.listener({ ...reading });
    }
  }

  async #readNow(): Promise<BatteryReading> {
    const supplies = await this.#supplies();
    const batteries = supplies.filter((s) => s.type === 'Battery');
    if (batteries.length === 0) throw new HalError('device-unavailable', `no battery under ${this.#root}`);
    const percents = batteries.map((b) => b.percent);
    if (!percents.every((p) => p !== undefined)) {
      throw new HalError('device-unavailable', `battery under ${this.#root} reports no level`);
    }
    const fulls = batteries.map((b) => b.full);
    const weighted = fulls.every((f) => f !== undefined && f > 0);
    const total = weighted ? fulls.reduce((n: number, f) => n + (f as number), 0) : batteries.length;
    const percent = percents.reduce(
      (n: number, p, i) => n + (p as number) * (weighted ? (fulls[i] as number) : 1),
      0,
    );
    const charging =
      supplies.some((s) => s.type !== 'Battery' && s.online === '1') ||
      batteries.some((b) => b.status !== undefined && ON_EXTERNAL_POWER.has(b.status));
    return { percent: clamp(percent / total), charging };
  }

  async #supplies(): Promise<SupplyFacts[]> {
    const names = await readdir(this.#root).catch((error: unknown) => {
      throw new HalError('device-unavailable', `no power supply class at ${this.#root}`, { cause: error });
    });
    const chosen = this.#supply === undefined ? names : names.filter((n) => n === this.#supply);
    if (this.#supply !== undefined && chosen.length === 0) {
      throw new HalError('device-unavailable', `no supply ${this.#supply} under ${this.#root}`);
    }
    const facts = await Promise.all(chosen.sort().map((name) => this.#facts(path.join(this.#root, name))));
    return facts.filter((f): f is SupplyFacts => f !== undefined);
  }

  /** One supply's files; undefined for a supply that is not a present system supply. */
  async #facts(dir: string): Promise<SupplyFacts | undefined> {
    const file = (name: string) =>
      readFile(path.join(dir, name), 'utf8').then(
        (s) => s.trim(),
        () => undefined,
      );
    const [type, scope, present] = await Promise.all([file('type'), file('scope'), file('present')]);
    if (type === undefined || scope === 'Device' || present === '0') return undefined;
    const [status, online, capacity, energyNow, energyFull, chargeNow, chargeFull] = await Promise.all(
      ['status', 'online', 'capacity', 'energy_now', 'energy_full', 'charge_now', 'charge_full'].map(file),
    );
    const full = number(dir, energyFull) ?? number(dir, chargeFull);
    const now = energyFull !== undefined ? number(dir, energyNow) : number(dir, chargeNow);
    const percent = number(dir, capacity) ?? (now !== undefined && full ? (100 * now) / full : undefined);
    return { type, status, online, percent, full };
  }
}

/** Parses a sysfs integer; a file that exists but holds no number is a driver fault. */
function number(dir: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new HalError('device-unavailable', `${dir}: malformed value '${text}'`);
  return Number(text);
}

function clamp(percent: number): number {
  return Math.min(100, Math.max(0, percent));
}
