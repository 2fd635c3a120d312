import { HalError, type HalErrorKind } from '../hal/index.js';

/**
 * Mobile termination error codes, 3GPP TS 27.007 §9.2.1 (general) and §9.2.2
 * (GPRS/EPS). With AT+CMEE=2 a modem sends the text instead of the number;
 * both forms are looked up here.
 */
const CME: Record<number, [text: string, kind: HalErrorKind]> = {
  0: ['phone failure', 'device-unavailable'],
  1: ['no connection to phone', 'device-unavailable'],
  2: ['phone-adaptor link reserved', 'busy'],
  3: ['operation not allowed', 'not-supported'],
  4: ['operation not supported', 'not-supported'],
  5: ['PH-SIM PIN required', 'pin-required'],
  6: ['PH-FSIM PIN required', 'pin-required'],
  7: ['PH-FSIM PUK required', 'pin-blocked'],
  10: ['SIM not inserted', 'no-card'],
  11: ['SIM PIN required', 'pin-required'],
  12: ['SIM PUK required', 'pin-blocked'],
  13: ['SIM failure', 'card-error'],
  14: ['SIM busy', 'busy'],
  15: ['SIM wrong', 'card-error'],
  16: ['incorrect password', 'pin-wrong'],
  17: ['SIM PIN2 required', 'pin-required'],
  18: ['SIM PUK2 required', 'pin-blocked'],
  20: ['memory full', 'no-space'],
  21: ['invalid index', 'card-error'],
  22: ['not found', 'card-error'],
  23: ['memory failure', 'card-error'],
  24: ['text string too long', 'not-supported'],
  25: ['invalid characters in text string', 'not-supported'],
  26: ['dial string too long', 'not-supported'],
  27: ['invalid characters in dial string', 'not-supported'],
  30: ['no network service', 'link-down'],
  31: ['network timeout', 'timeout'],
  32: ['network not allowed - emergency calls only', 'link-down'],
  40: ['network personalisation PIN required', 'pin-required'],
  41: ['network personalisation PUK required', 'pin-blocked'],
  42: ['network subset personalisation PIN required', 'pin-required'],
  43: ['network subset personalisation PUK required', 'pin-blocked'],
  44: ['service provider personalisation PIN required', 'pin-required'],
  45: ['service provider personalisation PUK required', 'pin-blocked'],
  46: ['corporate personalisation PIN required', 'pin-required'],
  47: ['corporate personalisation PUK required', 'pin-blocked'],
  48: ['hidden key required', 'pin-required'],
  49: ['EAP method not supported', 'not-supported'],
  50: ['incorrect parameters', 'not-supported'],
  51: ['command implemented but currently disabled', 'not-supported'],
  52: ['command aborted by user', 'device-unavailable'],
  53: ['not attached to network due to MT functionality restrictions', 'link-down'],
  54: ['modem not allowed - MT restricted to emergency calls only', 'link-down'],
  55: ['operation not allowed because of MT functionality restrictions', 'not-supported'],
  56: ['fixed dial number only allowed', 'not-supported'],
  57: ['temporarily out of service due to other MT usage', 'busy'],
  58: ['language/alphabet not supported', 'not-supported'],
  59: ['unexpected data value', 'card-error'],
  60: ['system failure', 'device-unavailable'],
  61: ['data missing', 'card-error'],
  62: ['call barred', 'link-down'],
  63: ['message waiting indication subscription failure', 'not-supported'],
  100: ['unknown', 'device-unavailable'],
  103: ['illegal MS', 'link-down'],
  106: ['illegal ME', 'link-down'],
  107: ['GPRS services not allowed', 'link-down'],
  111: ['PLMN not allowed', 'link-down'],
  112: ['location area not allowed', 'link-down'],
  113: ['roaming not allowed in this location area', 'link-down'],
  132: ['service option not supported', 'link-down'],
  133: ['requested service option not subscribed', 'link-down'],
  134: ['service option temporarily out of order', 'link-down'],
  148: ['unspecified GPRS error', 'link-down'],
  149: ['PDP authentication failure', 'link-down'],
  150: ['invalid mobile class', 'link-down'],
};

/** Message service failure result codes, 3GPP TS 27.005 §3.2.5. */
const CMS: Record<number, [text: string, kind: HalErrorKind]> = {
  300: ['ME failure', 'device-unavailable'],
  301: ['SMS service of ME reserved', 'busy'],
  302: ['operation not allowed', 'not-supported'],
  303: ['operation not supported', 'not-supported'],
  304: ['invalid PDU mode parameter', 'not-supported'],
  305: ['invalid text mode parameter', 'not-supported'],
  310: ['SIM not inserted', 'no-card'],
  311: ['SIM PIN required', 'pin-required'],
  312: ['PH-SIM PIN required', 'pin-required'],
  313: ['SIM failure', 'card-error'],
  314: ['SIM busy', 'busy'],
  315: ['SIM wrong', 'card-error'],
  316: ['SIM PUK required', 'pin-blocked'],
  317: ['SIM PIN2 required', 'pin-required'],
  318: ['SIM PUK2 required', 'pin-blocked'],
  320: ['memory failure', 'card-error'],
  321: ['invalid memory index', 'card-error'],
  322: ['memory full', 'no-space'],
  330: ['SMSC address unknown', 'link-down'],
  331: ['no network service', 'link-down'],
  332: ['network timeout', 'timeout'],
  340: ['no +CNMA acknowledgement expected', 'not-supported'],
  500: ['unknown error', 'device-unavailable'],
};

/** How a command ended (V.250 §5.7.1 final result codes, TS 27.007 §9.2, TS 27.005 §3.2.5). */
export type AtFinal =
  | { type: 'ok' }
  | { type: 'error' }
  | { type: 'cme'; code: number | undefined; text: string }
  | { type: 'cms'; code: number | undefined; text: string }
  | { type: 'call'; text: string };

const CALL_FINALS = new Set(['NO CARRIER', 'BUSY', 'NO ANSWER', 'NO DIALTONE', 'CONNECT']);

function lookup(
  table: Record<number, [string, HalErrorKind]>,
  value: string,
): { code: number | undefined; text: string } {
  if (/^\d+$/.test(value)) {
    const code = Number(value);
    return { code, text: table[code]?.[0] ?? `error ${code}` };
  }
  const lower = value.toLowerCase();
  for (const [code, [text]] of Object.entries(table)) {
    if (text.toLowerCase() === lower) return { code: Number(code), text };
  }
  return { code: undefined, text: value };
}

/** The final result code `line` stands for, or undefined when it is not one. */
export function parseFinal(line: string): AtFinal | undefined {
  if (line === 'OK') return { type: 'ok' };
  if (line === 'ERROR') return { type: 'error' };
  if (line.startsWith('+CME ERROR:')) return { type: 'cme', ...lookup(CME, line.slice(11).trim()) };
  if (line.startsWith('+CMS ERROR:')) return { type: 'cms', ...lookup(CMS, line.slice(11).trim()) };
  if (CALL_FINALS.has(line)) return { type: 'call', text: line };
  return undefined;
}

function kindOf(final: AtFinal): HalErrorKind {
  switch (final.type) {
    case 'ok':
      return 'device-unavailable';
    case 'error':
      // Plain ERROR: the modem does not know the command or its parameters (V.250 §5.7.1).
      return 'not-supported';
    case 'cme':
      return final.code === undefined ? 'device-unavailable' : (CME[final.code]?.[1] ?? 'device-unavailable');
    case 'cms':
      return final.code === undefined ? 'device-unavailable' : (CMS[final.code]?.[1] ?? 'device-unavailable');
    case 'call':
      return 'link-down';
  }
}

/**
 * A HalError from the modem: a command's error result (`final` set, with
 * the +CME/+CMS code and its meaning), or the engine's own 'timeout' /
 * 'device-unavailable' (`final` undefined). Callers switch on `kind`.
 */
export class AtError extends HalError {
  readonly command: string;
  readonly final: AtFinal | undefined;

  constructor(kind: HalErrorKind, command: string, message: string, final?: AtFinal, cause?: unknown) {
    super(kind, message, cause === undefined ? {} : { cause });
    this.command = command;
    this.final = final;
  }

  static fromFinal(command: string, final: AtFinal): AtError {
    const detail =
      final.type === 'cme' || final.type === 'cms'
        ? `+${final.type.toUpperCase()} ERROR: ${final.code ?? '?'} (${final.text})`
        : final.type === 'call'
          ? final.text
          : 'ERROR';
    return new AtError(kindOf(final), command, `${command}: ${detail}`, final);
  }

  /** The +CME ERROR code, when the modem gave one. */
  get cme(): number | undefined {
    return this.final?.type === 'cme' ? this.final.code : undefined;
  }
}

/** The meaning of a +CME ERROR code (TS 27.007 §9.2), for logs and messages. */
export function cmeText(code: number): string | undefined {
  return CME[code]?.[0];
}

/** The meaning of a +CMS ERROR code (TS 27.005 §3.2.5). */
export function cmsText(code: number): string | undefined {
  return CMS[code]?.[0];
}
