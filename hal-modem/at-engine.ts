import { existsSync } from 'node:fs';
import type { HalError, Unsubscribe } from '../hal/index.js';
import { AtError, type AtFinal, parseFinal } from './at-errors.js';
import { type ModemLogger, silentModemLogger } from './logger.js';
import { type LinePort, type LinePortHandlers, openLinePort } from './serial-lines.js';

export interface AtEngineOptions {
  /** The AT port, e.g. /dev/ttyUSB2 (Quectel) or a simulator's pty link. */
  path: string;
  /** Default 115200. */
  baudRate?: number;
  /** Default per-command timeout. Default 5000 ms. */
  timeoutMs?: number;
  /**
   * After a timeout, how long the engine waits for the late final result of
   * the timed-out command (and its own "AT" probe) before the next command.
   * Default 1000 ms.
   */
  settleMs?: number;
  /** While the port is gone, how often to look for it again. Default 500 ms. */
  reopenMs?: number;
  logger?: ModemLogger;
}

export interface CommandOptions {
  timeoutMs?: number;
  /** Information-response prefix (e.g. '+CPIN:'): such lines answer this command instead of being URCs. */
  prefix?: string;
}

/** What a command answered before its OK: the information lines, in order. */
export interface AtResponse {
  lines: string[];
}

/** Connection events: the modem rebooted (RDY), the port vanished, the port came back. */
export type AtEvent = 'restarted' | 'disconnected' | 'reconnected';

/**
 * Lines a modem sends on its own (TS 27.007 and vendor URCs). While a command
 * runs, a line with one of these prefixes is a URC unless it is that
 * command's own `prefix`.
 */
const URC_PREFIXES = [
  'RDY',
  '+CPIN:',
  '+CREG:',
  '+CEREG:',
  '+CGREG:',
  '+CFUN:',
  '+QSIMSTAT:',
  '+QUSIM:',
  '+QIND:',
  '+SIMCARD:',
  '+CGEV:',
  '+CMTI:',
  '+CRING:',
  'RING',
  'SMS DONE',
  'PB DONE',
  'POWERED DOWN',
];

interface Job {
  command: string;
  timeoutMs: number;
  prefix: string | undefined;
  resolve: (response: AtResponse) => void;
  reject: (error: AtError) => void;
}

interface Running {
  job: Job;
  lines: string[];
  settle: (final: AtFinal | AtError) => void;
}

const internalJob = (command: string, timeoutMs: number): Job => ({
  command,
  timeoutMs,
  prefix: undefined,
  resolve: () => {},
  reject: () => {},
});

const printable = (line: string) => /^[\x20-\x7e]*$/.test(line);

/**
 * The AT command engine (ITU-T V.250, 3GPP TS 27.007): one command at a time
 * from a queue, each with its own timeout, answered by a final result code;
 * information lines go to the command, URCs to listeners, at any moment.
 *
 * Promises:
 * - Every `command()` settles: OK → resolves; ERROR / +CME / +CMS → rejects
 *   AtError with the kind of the code; no final in time → 'timeout'; port
 *   gone or modem rebooted mid-command → 'device-unavailable'. Never a hang.
 * - Echo is tolerated (ATE1 after a reboot), line noise is dropped.
 * - A URC with the same prefix as the running command's answer (a +CREG URC
 *   during AT+CREG?) cannot be told apart by the engine; callers parse such
 *   answers by their field count.
 * - After a reboot (RDY) or the port coming back, ATE0, AT+CMEE=1 and the
 *   `init` commands run again before anything queued.
 */
export class AtEngine {
  readonly path: string;
  readonly #baudRate: number;
  readonly #timeoutMs: number;
  readonly #settleMs: number;
  readonly #reopenMs: number;
  readonly #log: ModemLogger;
  #port: LinePort | undefined;
  #queue: Job[] = [];
  #running: Running | undefined;
  #pumping = false;
  #needsInit = true;
  #stale = 0;
  #closed = false;
  #reopenTimer: ReturnType<typeof setTimeout> | undefined;
  #init: string[] = [];
  #urcListeners = new Set<(line: string) => void>();
  #eventListeners = new Set<(event: AtEvent) => void>();

  private constructor(options: AtEngineOptions) {
    this.path = options.path;
    this.#baudRate = options.baudRate ?? 115200;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#settleMs = options.settleMs ?? 1000;
    this.#reopenMs = options.reopenMs ?? 500;
    this.#log = options.logger ?? silentModemLogger;
  }

  /**
   * Opens the port and checks that a modem answers "AT". Rejects
   * 'device-unavailable' / 'busy' when the port cannot be opened, 'timeout'
   * when nothing answers.
   */
  static async open(options: AtEngineOptions): Promise<AtEngine> {
    const engine = new AtEngine(options);
    engine.#port = await openLinePort(engine.path, engine.#baudRate, engine.#handlers());
    try {
      await engine.command('AT');
    } catch (e) {
      await engine.close();
      throw e;
    }
    return engine;
  }

  /** Whether the port is open now. */
  get connected(): boolean {
    return this.#port !== undefined;
  }

  /** Commands run after ATE0 and AT+CMEE=1 on every (re)start, e.g. a dialect's URC switches. Failures are logged. */
  setInit(commands: readonly string[]): Promise<void> {
    this.#init = [...commands];
    this.#needsInit = true;
    // An empty command runs the init and nothing else.
    return this.command('AT').then(() => undefined);
  }

  /** Queues `command` (without the trailing CR). See the class promises. */
  command(command: string, options: CommandOptions = {}): Promise<AtResponse> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new AtError('device-unavailable', command, `${command}: the modem port is closed`));
        return;
      }
      if (this.#port === undefined) {
        reject(new AtError('device-unavailable', command, `${command}: ${this.path} is gone`));
        return;
      }
      this.#queue.push({
        command,
        timeoutMs: options.timeoutMs ?? this.#timeoutMs,
        prefix: options.prefix,
        resolve,
        reject,
      });
      void this.#pump();
    });
  }

  onUrc(listener: (line: string) => void): Unsubscribe {
    this.#urcListeners.add(listener);
    return () => this.#urcListeners.delete(listener);
  }

  onEvent(listener: (event: AtEvent) => void): Unsubscribe {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Rejects everything queued with 'device-unavailable' and closes the port; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reopenTimer);
    this.#abortAll('the modem port was closed');
    const port = this.#port;
    this.#port = undefined;
    await port?.close();
  }

  #handlers(): LinePortHandlers {
    return { onLine: (line) => this.#onLine(line), onLost: (e) => this.#onLost(e) };
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && this.#port !== undefined) {
        if (this.#stale > 0) await this.#resync();
        while (this.#needsInit && this.#port !== undefined) await this.#runInit();
        if (this.#stale > 0) await this.#resync();
        const job = this.#queue.shift();
        if (job === undefined) break;
        const { result, lines } = await this.#execute(job);
        if (result instanceof AtError) job.reject(result);
        else if (result.type === 'ok') job.resolve({ lines });
        else job.reject(AtError.fromFinal(job.command, result));
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #internal(command: string, timeoutMs = this.#timeoutMs): Promise<AtFinal | AtError> {
    if (this.#stale > 0) await this.#resync();
    return (await this.#execute(internalJob(command, timeoutMs))).result;
  }

  /** V.250 §6.2.4 (E0: no echo), TS 27.007 §9.1 (+CMEE=1: numeric codes), then the dialect's own. */
  async #runInit(): Promise<void> {
    this.#needsInit = false;
    for (const command of ['ATE0', 'AT+CMEE=1', ...this.#init]) {
      if (this.#port === undefined || this.#needsInit) return;
      const result = await this.#internal(command);
      if (result instanceof AtError || result.type !== 'ok') {
        this.#log.warn(
          { command, result: String(result instanceof AtError ? result.message : result.type) },
          'modem init command failed',
        );
      }
    }
  }

  /**
   * After a timeout the modem may still send the late answer. A probe "AT"
   * waits for the owed finals plus its own; whatever has not come within
   * `settleMs` is taken as lost (a missing final result).
   */
  async #resync(): Promise<void> {
    const { result } = await this.#execute(internalJob('AT', this.#settleMs));
    this.#log.debug(
      { result: result instanceof AtError ? result.kind : result.type },
      'resynchronised after a timeout',
    );
    this.#stale = 0;
  }

  #execute(job: Job): Promise<{ result: AtFinal | AtError; lines: string[] }> {
    const port = this.#port;
    if (port === undefined) {
      const result = new AtError('device-unavailable', job.command, `${job.command}: ${this.path} is gone`);
      return Promise.resolve({ result, lines: [] });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#stale++;
        done(
          new AtError('timeout', job.command, `${job.command}: no final result within ${job.timeoutMs} ms`),
        );
      }, job.timeoutMs);
      const done = (result: AtFinal | AtError) => {
        if (this.#running !== running) return;
        clearTimeout(timer);
        this.#running = undefined;
        resolve({ result, lines: running.lines });
      };
      const running: Running = { job, lines: [], settle: done };
      this.#running = running;
      this.#log.debug({ command: job.command }, 'AT >');
      port.write(`${job.command}\r`).catch((e: unknown) => {
        done(new AtError('device-unavailable', job.command, `${job.command}: write failed`, undefined, e));
      });
    });
  }

  #onLine(raw: string): void {
    const line = raw.trim();
    if (line === '') return;
    if (!printable(line)) {
      this.#log.debug({ bytes: line.length }, 'dropped line noise');
      return;
    }
    const running = this.#running;
    // An echo (ours or of a command the modem took late): no answer line of a modem starts with "AT".
    if (/^AT/i.test(line)) return;
    if (line === 'RDY') {
      this.#restarted();
      this.#emitUrc(line);
      return;
    }
    const final = parseFinal(line);
    if (final !== undefined) {
      if (this.#stale > 0) {
        // The late answer of a timed-out command.
        this.#stale--;
        if (running !== undefined) running.lines = [];
        return;
      }
      if (running === undefined) {
        this.#log.debug({ line }, 'final result with no command running');
        return;
      }
      running.settle(final);
      return;
    }
    const isUrc =
      URC_PREFIXES.some((p) => line.startsWith(p)) &&
      !(running?.job.prefix && line.startsWith(running.job.prefix));
    if (running !== undefined && !isUrc) {
      running.lines.push(line);
      return;
    }
    this.#emitUrc(line);
  }

  #restarted(): void {
    this.#log.warn({ path: this.path }, 'modem restarted');
    // A command cut off by the reboot may still be answered by the new boot: settle before the next one.
    this.#stale = this.#running === undefined ? 0 : 1;
    this.#needsInit = true;
    this.#running?.settle(
      new AtError(
        'device-unavailable',
        this.#running.job.command,
        `${this.#running.job.command}: the modem restarted`,
      ),
    );
    this.#emitEvent('restarted');
    if (this.#queue.length > 0) void this.#pump();
  }

  #onLost(error: HalError): void {
    if (this.#closed) return;
    this.#log.warn({ path: this.path, error: error.message }, 'modem port lost');
    this.#port = undefined;
    this.#stale = 0;
    this.#abortAll(`${this.path} disappeared`);
    this.#emitEvent('disconnected');
    this.#scheduleReopen();
  }

  #scheduleReopen(): void {
    if (this.#closed) return;
    this.#reopenTimer = setTimeout(() => void this.#reopen(), this.#reopenMs);
  }

  async #reopen(): Promise<void> {
    if (this.#closed || this.#port !== undefined) return;
    if (!existsSync(this.path)) {
      this.#scheduleReopen();
      return;
    }
    try {
      const port = await openLinePort(this.path, this.#baudRate, this.#handlers());
      if (this.#closed) {
        await port.close();
        return;
      }
      this.#port = port;
    } catch {
      this.#scheduleReopen();
      return;
    }
    this.#log.info({ path: this.path }, 'modem port back');
    this.#needsInit = true;
    this.#emitEvent('reconnected');
  }

  #abortAll(reason: string): void {
    const running = this.#running;
    running?.settle(
      new AtError('device-unavailable', running.job.command, `${running.job.command}: ${reason}`),
    );
    for (const job of this.#queue.splice(0)) {
      job.reject(new AtError('device-unavailable', job.command, `${job.command}: ${reason}`));
    }
  }

  #emitUrc(line: string): void {
    this.#log.debug({ line }, 'URC');
    for (const listener of [...this.#urcListeners]) listener(line);
  }

  #emitEvent(event: AtEvent): void {
    for (const listener of [...this.#eventListeners]) listener(event);
  }
}
