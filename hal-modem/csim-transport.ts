import { HalError } from '../hal/index.js';
import { type ApduTransport, fromHex, toHex } from '../uicc/index.js';
import type { AtEngine } from './at-engine.js';
import { fields, lineWith } from './dialect.js';

/**
 * Raw APDUs through AT+CSIM (3GPP TS 27.007 §8.17): `AT+CSIM=<length>,"<hex>"`
 * answers `+CSIM: <length>,"<hex>"`, where <length> counts hex characters and
 * the response ends with SW1 SW2. A modem without AT+CSIM rejects
 * 'not-supported'; a card gone rejects 'no-card'.
 */
export class CsimTransport implements ApduTransport {
  readonly #at: AtEngine;

  constructor(at: AtEngine) {
    this.#at = at;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const hex = toHex(apdu);
    const command = `AT+CSIM=${hex.length},"${hex}"`;
    const { lines } = await this.#at.command(command, { prefix: '+CSIM:' });
    const line = lineWith(lines, '+CSIM:');
    const [length, data = ''] = line === undefined ? [] : fields(line, '+CSIM:');
    if (Number(length) !== data.length || data.length < 4 || !/^[0-9A-Fa-f]*$/.test(data)) {
      throw new HalError('card-error', `${command}: malformed answer ${JSON.stringify(line ?? lines)}`);
    }
    return fromHex(data);
  }
}
