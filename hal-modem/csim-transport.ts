import { HalError } from '../hal/index.js';
import { type ApduTransport, fromHex, toHex } from '../uicc/index.js';
import type { AtEngine } from './at-engine.js';
import { fields, lineWith } from './dialect.js';
import { type SimWaitOptions, whileSimBusy } from './sim-ready.js';

/**
 * Raw APDUs through AT+CSIM (3GPP TS 27.007 §8.17): `AT+CSIM=<length>,"<hex>"`
 * answers `+CSIM: <length>,"<hex>"`, where <length> counts hex characters and
 * the response ends with SW1 SW2. A modem without AT+CSIM rejects
 * 'not-supported'; a card gone rejects 'no-card'. While the SIM is still
 * starting (+CME ERROR: 14) the APDU is sent again after a bounded back-off:
 * the modem did not pass a busy APDU to the card.
 */
export class CsimTransport implements ApduTransport {
  readonly #at: AtEngine;
  readonly #wait: SimWaitOptions;

  constructor(at: AtEngine, wait: SimWaitOptions = {}) {
    this.#at = at;
    this.#wait = wait;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const hex = toHex(apdu);
    const command = `AT+CSIM=${hex.length},"${hex}"`;
    const { lines } = await whileSimBusy(() => this.#at.command(command, { prefix: '+CSIM:' }), this.#wait);
    const line = lineWith(lines, '+CSIM:');
    const [length, data = ''] = line === undefined ? [] : fields(line, '+CSIM:');
    if (Number(length) !== data.length || data.length < 4 || !/^[0-9A-Fa-f]*$/.test(data)) {
      throw new HalError('card-error', `${command}: malformed answer ${JSON.stringify(line ?? lines)}`);
    }
    return fromHex(data);
  }
}
