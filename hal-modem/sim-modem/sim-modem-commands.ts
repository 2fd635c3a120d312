import {
  decodeImsi,
  encodeApdu,
  fromHex,
  isValidPin,
  isValidPuk,
  parseResponse,
  simCommands,
  toHex,
  usimCommands,
  type VirtualUicc,
} from '../../uicc/index.js';
import type { SimDialect } from './sim-dialect.js';

/** The simulator's state that commands read and change. */
export interface SimModemState {
  dialect: SimDialect;
  card: VirtualUicc | undefined;
  echo: boolean;
  /** AT+CMEE (TS 27.007 §9.1): 0 plain ERROR, 1 numeric, 2 verbose. */
  cmee: number;
  /** +CREG / +CEREG URC modes (TS 27.007 §7.2, §10.1.22). */
  creg: number;
  cereg: number;
  /** Quectel AT+QSIMSTAT=1: report SIM insertion status. */
  simStatUrc: boolean;
  network: { stat: number; rssi: number };
  battery: { percent: number; charging: boolean; millivolts: number };
  /** Command names ('+CSIM', '+CCID', …) this unit answers with plain ERROR, like a modem without them. */
  unsupported: ReadonlySet<string>;
  /** The SIM is still starting (after insertion or boot): SIM commands answer +CME ERROR: 14. */
  simBusy: boolean;
  /** The unlocked SIM's SMS and phonebook are still being read: file access answers +CME ERROR: 14. */
  simInitialising: boolean;
  /** The card stopped answering: SIM commands get no answer at all. */
  simHung: boolean;
}

/** A command's answer: information lines, a final result ('none': nothing at all), URCs that follow it. */
export interface Reply {
  lines: string[];
  final: 'OK' | 'ERROR' | { cme: number } | 'none';
  urcs?: string[];
}

const ok = (...lines: string[]): Reply => ({ lines, final: 'OK' });
const cme = (code: number): Reply => ({ lines: [], final: { cme: code } });
const ERROR: Reply = { lines: [], final: 'ERROR' };

/** Splits "a,\"b,c\",d" into ['a', 'b,c', 'd'] (V.250 §5.4.2 string constants). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

/** +CPIN state text (TS 27.007 §8.3) of the card in the slot, or undefined when the slot is empty. */
export function cpinState(card: VirtualUicc | undefined): string | undefined {
  if (card === undefined) return undefined;
  const snap = card.snapshot();
  if (snap.pinRetriesLeft === 0) return 'SIM PUK';
  return snap.pinVerified || !snap.pinEnabled ? 'READY' : 'SIM PIN';
}

/** Whether the card's files that need PIN1 are open (verified, or PIN1 disabled). */
function unlocked(card: VirtualUicc): boolean {
  const snap = card.snapshot();
  return snap.pinVerified || !snap.pinEnabled;
}

/** Digits as a modem prints EF_ICCID: nibble-swapped BCD, filler F kept (e.g. "8988211000000430010F"). */
function iccidText(card: VirtualUicc): string {
  const hex = toHex(card.snapshot().iccid);
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += hex[i + 1]! + hex[i]!;
  return out;
}

function transmit(card: VirtualUicc, command: Parameters<typeof encodeApdu>[0]) {
  return parseResponse(card.process(encodeApdu(command)));
}

/**
 * A 3G command, or its 2G form when the card refuses CLA 00 (6E00): a modem
 * speaks TS 51.011 to a 2G SIM (VERIFY CHV1, UNBLOCK CHV1, TS 51.011 §9.2.9, §9.2.13).
 */
function transmitEither(
  card: VirtualUicc,
  usim: Parameters<typeof encodeApdu>[0],
  sim: Parameters<typeof encodeApdu>[0],
) {
  const res = transmit(card, usim);
  return res.sw === 0x6e00 ? transmit(card, sim) : res;
}

/**
 * AT+CPIN="pin" / AT+CPIN="puk","newpin" through VERIFY / UNBLOCK PIN on the
 * card. A right code is followed by +CPIN: READY (then, from the modem, the
 * SMS / phonebook initialisation and its SMS DONE / PB DONE URCs).
 */
function enterPin(card: VirtualUicc, args: string[]): Reply {
  const state = cpinState(card);
  const [first = '', second] = args;
  const unlockedNow = (): Reply => ({ lines: [], final: 'OK', urcs: ['+CPIN: READY'] });
  if (second === undefined) {
    if (state === 'SIM PUK') return cme(12);
    // TS 27.007 §8.3: with no PIN pending, +CPIN=<pin> does nothing and errs.
    if (state === 'READY') return cme(3);
    if (!isValidPin(first)) return cme(16);
    const res = transmitEither(card, usimCommands.verifyPin(first), simCommands.verifyChv1(first));
    return res.sw === 0x9000 ? unlockedNow() : cme(16);
  }
  if (!isValidPuk(first) || !isValidPin(second)) return cme(16);
  const res = transmitEither(
    card,
    usimCommands.unblockPin(first, second),
    simCommands.unblockChv1(first, second),
  );
  return res.sw === 0x9000 ? unlockedNow() : cme(res.sw === 0x6983 || res.sw === 0x9840 ? 13 : 16);
}

/** AT+CRSM (TS 27.007 §8.18): READ BINARY (176) / READ RECORD (178) of a file under the MF. */
function restrictedSimAccess(card: VirtualUicc, args: string[]): Reply {
  const [command, fileId, p1, p2, p3, , path] = args.map((a, i) => (i === 5 || i === 6 ? a : Number(a)));
  if (typeof command !== 'number' || typeof fileId !== 'number') return cme(50);
  const fids = [0x3f00];
  const pathHex = typeof path === 'string' ? path : '';
  for (let i = 0; i + 4 <= pathHex.length; i += 4) {
    const fid = Number.parseInt(pathHex.slice(i, i + 4), 16);
    if (fid !== 0x3f00) fids.push(fid);
  }
  fids.push(fileId);
  for (const fid of fids) {
    const res = transmit(card, usimCommands.select(fid));
    if (res.sw !== 0x9000) return ok(`+CRSM: ${res.sw >> 8},${res.sw & 0xff}`);
  }
  const [a = 0, b = 0, le = 0] = [p1, p2, p3].map((v) => (typeof v === 'number' ? v : 0));
  let res: ReturnType<typeof transmit>;
  if (command === 176) res = transmit(card, usimCommands.readBinary((a << 8) | b, le));
  else if (command === 178) res = transmit(card, usimCommands.readRecord(a, le));
  else return cme(4);
  return ok(`+CRSM: ${res.sw >> 8},${res.sw & 0xff},"${toHex(res.data)}"`);
}

/** AT+CSIM (TS 27.007 §8.17): <length> is the number of hex characters. */
function genericSimAccess(card: VirtualUicc, args: string[]): Reply {
  const [length, hex = ''] = args;
  if (Number(length) !== hex.length || hex.length < 8) return cme(50);
  let apdu: Uint8Array;
  try {
    apdu = fromHex(hex);
  } catch {
    return cme(50);
  }
  const response = toHex(card.process(apdu));
  return ok(`+CSIM: ${response.length},"${response}"`);
}

function pinCounters(card: VirtualUicc): { pin: number; puk: number } {
  const snap = card.snapshot();
  return { pin: snap.pinRetriesLeft, puk: snap.pukRetriesLeft };
}

function battery(s: SimModemState): Reply {
  const b = s.battery;
  if (s.dialect.name === 'simcom') return ok(`+CBC: ${(b.millivolts / 1000).toFixed(3)}V`);
  if (s.dialect.name === 'quectel') return ok(`+CBC: ${b.charging ? 1 : 0},${b.percent},${b.millivolts}`);
  return ok(`+CBC: ${b.charging ? 1 : 0},${b.percent}`);
}

type Handler = (s: SimModemState, args: string[], form: 'exec' | 'read' | 'set' | 'test') => Reply;

/** Commands that need a card; the slot being empty answers +CME ERROR: 10 (SIM not inserted). */
const withCard =
  (run: (card: VirtualUicc, s: SimModemState, args: string[], form: string) => Reply): Handler =>
  (s, args, form) =>
    s.card === undefined ? cme(10) : run(s.card, s, args, form);

const COMMON: Record<string, Handler> = {
  '': () => ok(),
  I: (s) => ok(...s.dialect.ati),
  E0: (s) => {
    s.echo = false;
    return ok();
  },
  E1: (s) => {
    s.echo = true;
    return ok();
  },
  '+CGMI': (s) => ok(s.dialect.manufacturer),
  '+CGMM': (s) => ok(s.dialect.model),
  '+CMEE': (s, args, form) => {
    if (form === 'read') return ok(`+CMEE: ${s.cmee}`);
    s.cmee = Number(args[0]);
    return ok();
  },
  '+CPIN': (s, args, form) => {
    if (form === 'read') {
      const state = cpinState(s.card);
      return state === undefined ? cme(10) : ok(`+CPIN: ${state}`);
    }
    return s.card === undefined ? cme(10) : enterPin(s.card, args);
  },
  '+CIMI': withCard((card) => {
    if (!unlocked(card)) return cme(11);
    return ok(decodeImsi(card.snapshot().imsi));
  }),
  // TS 27.007 §7.4: query (<mode> 2) of the "SC" (SIM PIN1) lock: +CLCK: 1 enabled, 0 disabled.
  '+CLCK': withCard((card, _s, args) => {
    if (args[0]?.toUpperCase() !== 'SC' || args[1] !== '2') return cme(4);
    return ok(`+CLCK: ${card.snapshot().pinEnabled ? 1 : 0}`);
  }),
  '+CCID': withCard((card) => ok(`+CCID: ${iccidText(card)}`)),
  '+CRSM': withCard((card, _s, args) => restrictedSimAccess(card, args)),
  '+CSIM': withCard((card, _s, args) => genericSimAccess(card, args)),
  '+CREG': (s, args, form) => {
    if (form === 'read') return ok(`+CREG: ${s.creg},${s.network.stat}`);
    s.creg = Number(args[0]);
    return ok();
  },
  '+CEREG': (s, args, form) => {
    if (form === 'read') return ok(`+CEREG: ${s.cereg},${s.network.stat}`);
    s.cereg = Number(args[0]);
    return ok();
  },
  '+CSQ': (s) => ok(`+CSQ: ${s.network.rssi},99`),
  '+CBC': battery,
};

const VENDOR: Record<SimDialect['name'], Record<string, Handler>> = {
  quectel: {
    '+QCCID': withCard((card) => ok(`+QCCID: ${iccidText(card)}`)),
    '+QPINC': withCard((card, _s, args) => {
      const { pin, puk } = pinCounters(card);
      return args[0] === 'P2' ? ok('+QPINC: "P2",3,10') : ok(`+QPINC: "SC",${pin},${puk}`);
    }),
    '+QSIMDET': () => ok(),
    // EC2x AT manual §5.9: 0 while the SIM starts; 1 CPIN ready (PIN operations allowed), +2 SMS, +4 phonebook done.
    '+QINISTAT': (s) => {
      if (s.card === undefined || s.simBusy) return ok('+QINISTAT: 0');
      return ok(`+QINISTAT: ${cpinState(s.card) === 'READY' && !s.simInitialising ? 7 : 1}`);
    },
    '+QSIMSTAT': (s, args, form) => {
      if (form === 'read') return ok(`+QSIMSTAT: ${s.simStatUrc ? 1 : 0},${s.card ? 1 : 0}`);
      s.simStatUrc = args[0] === '1';
      return ok();
    },
  },
  simcom: {
    '+CICCID': withCard((card) => ok(`+ICCID: ${iccidText(card)}`)),
    '+SPIC': withCard((card) => {
      const { pin, puk } = pinCounters(card);
      // SIM7600 AT manual: +SPIC: <pin1>,<puk1>,<pin2>,<puk2> (PIN2 and PUK2 untouched here: 3 and 10).
      return ok(`+SPIC: ${pin},${puk},3,10`);
    }),
    '+UIMHOTSWAPON': () => ok(),
  },
  generic: {
    '+CPINR': withCard((card) => {
      const { pin, puk } = pinCounters(card);
      return ok(`+CPINR: SIM PIN,${pin},3`, `+CPINR: SIM PUK,${puk},10`);
    }),
    '+ICCID': withCard((card) => ok(`+ICCID: ${iccidText(card)}`)),
  },
};

/** Commands that read the card's files: they wait for the SMS / phonebook initialisation too. */
const FILE_COMMANDS = new Set(['+CIMI', '+CCID', '+CRSM', '+CSIM', '+ICCID', '+QCCID', '+CICCID']);

/**
 * Commands that go to the card: while the SIM starts they answer +CME ERROR: 14
 * "SIM busy" (TS 27.007 §9.2.1), as EC2x and SIM7600 do after insertion and
 * boot; file access keeps answering it while an unlocked SIM's SMS and
 * phonebook are read (the SIM-busy retries of ModemManager's SIM code).
 */
const SIM_COMMANDS = new Set([...FILE_COMMANDS, '+CPIN', '+CLCK', '+CPINR', '+QPINC', '+SPIC']);

/** Runs one command line ("AT+CPIN?") against the state. Unknown commands answer ERROR. */
export function runCommand(s: SimModemState, line: string): Reply {
  if (!/^AT/i.test(line)) return ERROR;
  const body = line.slice(2);
  const match = /^([+&]?[A-Za-z]*\d*)(=\?|\?|=)?(.*)$/.exec(body);
  if (match === null) return ERROR;
  const name = match[1]!.toUpperCase();
  const form = match[2] === '?' ? 'read' : match[2] === '=?' ? 'test' : match[2] === '=' ? 'set' : 'exec';
  const handler = VENDOR[s.dialect.name][name] ?? COMMON[name];
  if (handler === undefined || s.unsupported.has(name)) return ERROR;
  if (form === 'test') return ok();
  if (SIM_COMMANDS.has(name) && s.card !== undefined) {
    if (s.simHung) return { lines: [], final: 'none' };
    if (s.simBusy || (s.simInitialising && FILE_COMMANDS.has(name))) return cme(14);
  }
  return handler(s, form === 'set' ? splitArgs(match[3]!) : [], form);
}
