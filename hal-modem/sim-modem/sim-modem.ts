import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';
import type { VirtualUicc } from '../../uicc/index.js';
import { SIM_DIALECTS, type SimDialectName } from './sim-dialect.js';
import { cpinState, type Reply, runCommand, type SimModemState } from './sim-modem-commands.js';

export interface SimModemOptions {
  dialect: SimDialectName;
  /** The card in the slot at power-up. */
  card?: VirtualUicc;
  /** +CREG/+CEREG <stat> (1 = registered, home) and +CSQ <rssi>. Default registered, rssi 20 (−73 dBm). */
  network?: { stat: number; rssi: number };
  battery?: { percent: number; charging: boolean; millivolts: number };
  /** Commands to answer with ERROR, e.g. ['+CSIM'] for a modem without APDU access. */
  unsupported?: string[];
  /**
   * How long the SIM takes to start after insertion and after boot, and
   * again to read SMS and phonebook once it is unlocked. Starting, SIM
   * commands answer +CME ERROR: 14 (SIM busy) and +QINISTAT says 0; then
   * +CPIN: <state> arrives. Unlocked (no PIN, or after a right one), file
   * access (CSIM, CRSM, CIMI, ICCID) answers CME 14 for as long again, until
   * SMS DONE / PB DONE. Real modules take a few hundred ms to seconds. Default 0.
   */
  simBusyMs?: number;
}

/** Queued faults for the next command the modem receives. */
interface NextFaults {
  delayMs: number;
  dropFinal: boolean;
  garbage: boolean;
}

const NO_FAULTS: NextFaults = { delayMs: 0, dropFinal: false, garbage: false };

/**
 * A cellular modem in TypeScript on one end of a tty (see PtyPair): answers
 * the AT commands hal-modem uses in the Quectel, SIMCom or plain TS 27.007
 * dialect, with the SIM a VirtualUicc, so +CPIN/+CSIM/+CRSM reach the same
 * card code as every other reader.
 *
 * Commands run one at a time, like a real modem. Fault injection is explicit:
 * `injectGarbage`, `dropNextFinal`, `delayNextReply`, `reboot`, and
 * `insertCard`/`removeCard` at any moment, even during a slow reply (the
 * command then sees the slot as it is when it executes).
 */
export class SimModem {
  readonly state: SimModemState;
  #port: SerialPort | undefined;
  #inbox: string[] = [];
  #busy = false;
  #wake: (() => void) | undefined;
  #down = false;
  #next: NextFaults = { ...NO_FAULTS };
  #log: string[] = [];
  /** Bumped when the tty goes away or the modem reboots: work in progress is lost. */
  #epoch = 0;
  #simBusyMs: number;
  #simStart: ReturnType<typeof setTimeout> | undefined;
  #simInit: ReturnType<typeof setTimeout> | undefined;

  constructor(options: SimModemOptions) {
    this.state = {
      dialect: SIM_DIALECTS[options.dialect],
      card: options.card,
      echo: true,
      cmee: 0,
      creg: 0,
      cereg: 0,
      simStatUrc: false,
      network: options.network ?? { stat: 1, rssi: 20 },
      battery: options.battery ?? { percent: 80, charging: false, millivolts: 4000 },
      unsupported: new Set(options.unsupported ?? []),
      simBusy: false,
      simInitialising: false,
      simHung: false,
    };
    this.#simBusyMs = options.simBusyMs ?? 0;
    options.card?.powerOn();
  }

  /** Opens the simulator's end of the tty. */
  async attach(path: string): Promise<void> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('error', () => {});
    port.on('close', () => {
      if (this.#port === port) this.#port = undefined;
    });
    port
      .pipe(new ReadlineParser({ delimiter: '\r', encoding: 'latin1' }))
      .on('data', (line: string) => this.#receive(line.replace(/\n/g, '')));
    this.#port = port;
  }

  /** Closes the simulator's end; idempotent. */
  async detach(): Promise<void> {
    this.#epoch++;
    this.#cancelSimStart();
    // A modem that loses its port loses the command it was working on.
    this.#wake?.();
    this.#inbox = [];
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Every command line received, in order (echo of the host's traffic, for assertions). */
  commands(): string[] {
    return [...this.#log];
  }

  // ---- SIM slot -------------------------------------------------------------

  /**
   * Puts a card in the slot (powering it): +QSIMSTAT: 1,1 at once (Quectel,
   * when enabled: the detect pin), then, after the SIM-busy window, the
   * dialect's SIM-started URCs (+CPIN: <state> …).
   */
  insertCard(card: VirtualUicc): void {
    this.state.card = card;
    this.state.simHung = false;
    card.powerOn();
    if (this.#down) return;
    if (this.state.simStatUrc) this.#urc('+QSIMSTAT: 1,1');
    this.#startSim();
  }

  /** Sets the SIM-busy window for the next insertions and boots. */
  setSimBusy(ms: number): void {
    this.#simBusyMs = Math.max(0, ms);
  }

  /** The card stops answering: SIM commands get no answer at all until it is removed or reinserted. */
  hangSim(): void {
    this.state.simHung = true;
  }

  /** Pulls the card at once and announces it: +QSIMSTAT (Quectel), +SIMCARD (SIMCom), else +CPIN. */
  removeCard(): void {
    const card = this.state.card;
    if (card === undefined) return;
    this.state.card = undefined;
    this.state.simHung = false;
    this.#cancelSimStart();
    card.powerOff();
    if (this.#down) return;
    if (this.state.dialect.name === 'quectel' && this.state.simStatUrc) this.#urc('+QSIMSTAT: 1,0');
    else if (this.state.dialect.name === 'simcom') this.#urc('+SIMCARD: NOT AVAILABLE');
    else this.#urc('+CPIN: NOT INSERTED');
  }

  /** Changes registration (<stat> of TS 27.007 §7.2) and reports it when +CREG/+CEREG URCs are on. */
  setRegistration(stat: number): void {
    this.state.network.stat = stat;
    if (this.state.creg > 0) this.#urc(`+CREG: ${stat}`);
    if (this.state.cereg > 0) this.#urc(`+CEREG: ${stat}`);
  }

  setSignal(rssi: number): void {
    this.state.network.rssi = rssi;
  }

  setBattery(battery: { percent: number; charging: boolean; millivolts: number }): void {
    this.state.battery = { ...battery };
  }

  // ---- faults ---------------------------------------------------------------

  /** Sends line noise now (random bytes, control characters included), or inside the next reply. */
  injectGarbage(options: { inNextReply?: boolean } = {}): void {
    if (options.inNextReply) this.#next.garbage = true;
    else this.#write(garbage());
  }

  /** The next command gets its information lines but never its final result code. */
  dropNextFinal(): void {
    this.#next.dropFinal = true;
  }

  /** The next command takes `ms` to execute before anything is answered. */
  delayNextReply(ms: number): void {
    this.#next.delayMs = ms;
  }

  /**
   * Reboots: silent (input lost) for `downMs`, then RDY and the dialect's
   * boot URCs with factory settings (echo on, +CMEE=0, URCs off) and the
   * card power-cycled (PIN1 no longer verified).
   */
  async reboot(options: { downMs?: number } = {}): Promise<void> {
    this.#down = true;
    this.#epoch++;
    this.#inbox = [];
    this.#next = { ...NO_FAULTS };
    this.#cancelSimStart();
    await new Promise((r) => setTimeout(r, options.downMs ?? 50));
    this.powerUp();
  }

  /** The power-up sequence alone (RDY, boot URCs, then the SIM's start), e.g. after the tty was re-created. */
  powerUp(): void {
    const s = this.state;
    Object.assign(s, { echo: true, cmee: 0, creg: 0, cereg: 0, simStatUrc: false, simHung: false });
    s.card?.powerOff();
    s.card?.powerOn();
    this.#down = false;
    this.#urc('RDY');
    for (const line of s.dialect.boot) this.#urc(line);
    this.#startSim();
  }

  /** The SIM starts: busy for the window, then the SIM-started URCs (with no card: +CPIN: NOT INSERTED at boot). */
  #startSim(): void {
    this.#cancelSimStart();
    const started = () => {
      this.state.simBusy = false;
      this.#simStart = undefined;
      const state = cpinState(this.state.card);
      for (const line of this.state.dialect.simStarted(state)) this.#urc(line);
      if (state === 'READY') this.#initialiseSim();
    };
    if (this.#simBusyMs === 0 || this.state.card === undefined) {
      started();
      return;
    }
    this.state.simBusy = true;
    this.#simStart = setTimeout(started, this.#simBusyMs);
  }

  /** An unlocked SIM: SMS and phonebook are read (file access busy meanwhile), then SMS DONE / PB DONE. */
  #initialiseSim(): void {
    clearTimeout(this.#simInit);
    const done = () => {
      this.state.simInitialising = false;
      this.#simInit = undefined;
      for (const line of this.state.dialect.simInitialised) this.#urc(line);
    };
    if (this.#simBusyMs === 0) {
      done();
      return;
    }
    this.state.simInitialising = true;
    this.#simInit = setTimeout(done, this.#simBusyMs);
  }

  #cancelSimStart(): void {
    clearTimeout(this.#simStart);
    clearTimeout(this.#simInit);
    this.#simStart = undefined;
    this.#simInit = undefined;
    this.state.simBusy = false;
    this.state.simInitialising = false;
  }

  /** Clears pending faults and the command log. */
  reset(): void {
    this.#next = { ...NO_FAULTS };
    this.#log = [];
  }

  /** Sleeps `ms`, or less when the port goes away (the work is then dropped by epoch). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }

  #receive(raw: string): void {
    const line = raw.trim();
    if (line === '' || this.#down) return;
    this.#inbox.push(line);
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let line = this.#inbox.shift(); line !== undefined; line = this.#inbox.shift()) {
        this.#log.push(line);
        if (this.state.echo) this.#write(`${line}\r`);
        const faults = this.#next;
        this.#next = { ...NO_FAULTS };
        const epoch = this.#epoch;
        if (faults.delayMs > 0) await this.#sleep(faults.delayMs);
        if (this.#down || epoch !== this.#epoch) continue;
        const before = cpinState(this.state.card);
        this.#reply(runCommand(this.state, line), faults);
        if (before !== 'READY' && cpinState(this.state.card) === 'READY') this.#initialiseSim();
      }
    } finally {
      this.#busy = false;
    }
  }

  #reply(reply: Reply, faults: NextFaults): void {
    if (reply.final === 'none') return;
    let out = reply.lines.map((l) => `\r\n${l}\r\n`).join('');
    if (faults.garbage) out += garbage();
    if (!faults.dropFinal) out += `\r\n${this.#final(reply.final)}\r\n`;
    for (const urc of reply.urcs ?? []) out += `\r\n${urc}\r\n`;
    this.#write(out);
  }

  /** TS 27.007 §9.1: +CMEE=0 gives plain ERROR, 1 the number, 2 the text. */
  #final(final: Exclude<Reply['final'], 'none'>): string {
    if (typeof final === 'string') return final;
    if (this.state.cmee === 0) return 'ERROR';
    if (this.state.cmee === 2) return `+CME ERROR: ${CME_TEXT[final.cme] ?? final.cme}`;
    return `+CME ERROR: ${final.cme}`;
  }

  #urc(line: string): void {
    this.#write(`\r\n${line}\r\n`);
  }

  #write(text: string): void {
    const port = this.#port;
    if (port?.isOpen) port.write(Buffer.from(text, 'latin1'));
  }
}

const CME_TEXT: Record<number, string> = {
  3: 'operation not allowed',
  4: 'operation not supported',
  10: 'SIM not inserted',
  11: 'SIM PIN required',
  12: 'SIM PUK required',
  13: 'SIM failure',
  14: 'SIM busy',
  16: 'incorrect password',
  50: 'Incorrect parameters',
};

/** 24 random bytes (no CR/LF, so one line that starts with NUL FF) ending in CR LF. */
function garbage(): string {
  let out = '\x00\xff';
  for (let i = 0; i < 22; i++) {
    const byte = Math.floor(Math.random() * 256);
    out += String.fromCharCode(byte === 0x0d || byte === 0x0a ? 0x7f : byte);
  }
  return `${out}\r\n`;
}
