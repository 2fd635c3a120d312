import type { ApduTransport } from './exchange.js';

/** One command/response pair as it crossed a transport. */
export interface ApduExchange {
  readonly command: Uint8Array;
  readonly response: Uint8Array;
}

/**
 * Wraps a transport and records every exchange, so tests (and traces in
 * HALs) can assert on the exact bytes sent, like embedded-hal-mock's
 * transaction list.
 */
export class RecordingTransport implements ApduTransport {
  readonly #inner: ApduTransport;
  readonly log: ApduExchange[] = [];

  constructor(inner: ApduTransport) {
    this.#inner = inner;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const response = await this.#inner.transmit(apdu);
    this.log.push({ command: apdu.slice(), response: response.slice() });
    return response;
  }

  reset(): void {
    this.log.length = 0;
  }
}

/** An ApduTransport onto anything with a synchronous card-side `process` (e.g. VirtualUicc). */
export function directTransport(card: { process(apdu: Uint8Array): Uint8Array }): ApduTransport {
  return { transmit: async (apdu) => card.process(apdu) };
}
