import type { ApduTransport } from './exchange.js';
import { bytesEqual, fromHex, toHex } from './hex.js';

/**
 * A transport that expects an exact list of exchanges, in order, like
 * embedded-hal-mock: each `transmit` must send the next expected command
 * and gets its scripted response. `done()` throws if any were left over.
 * For tests of code that talks to cards (this layer and the HALs).
 */
export class ScriptedTransport implements ApduTransport {
  readonly #script: { command: Uint8Array; response: Uint8Array }[];
  #next = 0;

  /** Pairs of hex strings: [command, response]. */
  constructor(script: readonly (readonly [string, string])[]) {
    this.#script = script.map(([c, r]) => ({ command: fromHex(c), response: fromHex(r) }));
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const step = this.#script[this.#next];
    if (step === undefined) throw new Error(`unexpected APDU ${toHex(apdu)} after the script ended`);
    if (!bytesEqual(step.command, apdu)) {
      throw new Error(`exchange ${this.#next + 1}: expected ${toHex(step.command)}, got ${toHex(apdu)}`);
    }
    this.#next++;
    return step.response.slice();
  }

  /** Throws unless every scripted exchange happened. */
  done(): void {
    if (this.#next !== this.#script.length) {
      throw new Error(`${this.#script.length - this.#next} scripted exchanges never happened`);
    }
  }
}
