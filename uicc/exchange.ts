import { type CommandApdu, encodeApdu } from './apdu.js';
import { UiccError } from './errors.js';
import { concatBytes } from './hex.js';
import { parseResponse, type ResponseApdu } from './response.js';

/**
 * A raw APDU pipe to a card: command bytes in, response data + SW1 SW2 out.
 * PC/SC, AT+CSIM and the virtual UICC all fit behind it. It does no T=0
 * procedure handling; `exchange` does that above it.
 */
export interface ApduTransport {
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
}

/** Bound on chained exchanges for one command, so a looping card cannot hang us. */
const MAX_EXCHANGES = 16;

const INS_GET_RESPONSE = 0xc0;
const CLA_GSM = 0xa0;

/**
 * CLA for a GET RESPONSE following a command sent with `cla`. 2G keeps A0
 * (TS 51.011 §9.2.18); otherwise the interindustry class with the same
 * logical channel: b8 cleared, because TS 102 221 §10.1.1 allows GET RESPONSE
 * only as CLA '0X' even after a CLA '8X' command such as STATUS.
 */
function getResponseCla(cla: number): number {
  return cla === CLA_GSM ? CLA_GSM : cla & 0x7f;
}

/**
 * Sends `command` and completes the T=0 procedures that leave data waiting
 * or ask for a corrected length:
 * - 61xx (ISO 7816-4 §5.1.3) → GET RESPONSE (CLA per `getResponseCla`, Le = xx);
 *   repeated while the card keeps answering 61xx, concatenating the data.
 * - 9Fxx (TS 51.011 §9.4.1) → A0 C0 00 00 xx.
 * - 6Cxx (ISO 7816-3 §12.2.2) → the same command again with Le = xx.
 * - 67xx, xx ≠ 00, CLA A0 (TS 51.011 §9.4.4: "XX gives the correct length") →
 *   the same case-2 command with P3 = xx.
 * Any other SW is returned as is, with whatever data came before it.
 */
export async function exchange(transport: ApduTransport, command: CommandApdu): Promise<ResponseApdu> {
  let current = command;
  let collected: Uint8Array[] = [];
  for (let i = 0; i < MAX_EXCHANGES; i++) {
    const res = parseResponse(await transport.transmit(encodeApdu(current)));
    const sw1 = res.sw >> 8;
    const xx = res.sw & 0xff;
    if (sw1 === 0x6c && current.le !== undefined) {
      // The data (if any) of the rejected attempt is void; ask again with the exact length.
      current = { ...current, le: xx === 0 ? 256 : xx };
      continue;
    }
    if (sw1 === 0x67 && xx !== 0 && current.cla === CLA_GSM && current.le !== undefined) {
      current = { ...current, le: xx };
      continue;
    }
    collected.push(res.data);
    if (sw1 === 0x61 || sw1 === 0x9f) {
      const cla = sw1 === 0x9f ? CLA_GSM : getResponseCla(command.cla);
      current = { cla, ins: INS_GET_RESPONSE, p1: 0, p2: 0, le: xx === 0 ? 256 : xx };
      continue;
    }
    const data = collected.length === 1 ? collected[0]! : concatBytes(...collected);
    collected = [];
    return { data, sw: res.sw };
  }
  throw new UiccError('bad-response', `card kept chaining after ${MAX_EXCHANGES} exchanges`);
}
