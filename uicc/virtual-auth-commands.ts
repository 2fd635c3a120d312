import { answerChallenge } from './aka/challenge.js';
import { gsmKc, gsmSres } from './aka/milenage.js';
import type { CommandApdu } from './apdu.js';
import { FID } from './file-ids.js';
import { concatBytes } from './hex.js';
import { SW } from './status-words.js';
import { allowed, type CardState, deliver, type Generation, SWS, sw } from './virtual-card-state.js';

/**
 * INS 88 on the virtual card: RUN GSM ALGORITHM (CLA A0, TS 51.011
 * §9.2.16) and AUTHENTICATE (CLA 00, TS 31.102 §7.1.2), computed with
 * Milenage and the SQN array of TS 33.102 Annex C.2.
 */

const P2_GSM = 0x80;
const P2_3G = 0x81;
const RAND_BYTES = 16;
const lv = (value: Uint8Array) => concatBytes(Uint8Array.of(value.length), value);

/** The 16-byte values of `data` as L ‖ V fields with L = 10 each (TS 31.102 §7.1.2.1), else undefined. */
function fields16(data: Uint8Array, count: number): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * (RAND_BYTES + 1);
    if (data[at] !== RAND_BYTES) return undefined;
    out.push(data.subarray(at + 1, at + 1 + RAND_BYTES));
  }
  return out;
}

/** SRES = c2(RES), Kc = c3(CK, IK) (TS 33.102 §6.8.1.2): GSM authentication on a UMTS algorithm. */
function gsmAnswer(state: CardState, rand: Uint8Array): { sres: Uint8Array; kc: Uint8Array } {
  const { res, ck, ik } = state.aka!.milenage.f2345(rand);
  return { sres: gsmSres(res), kc: gsmKc(ck, ik) };
}

/**
 * TS 51.011 §9.2.16: DF_GSM must be the current directory (else 9408, "file
 * inconsistent with the command") and CHV1 verified (9804); the 12 bytes
 * SRES ‖ Kc wait behind 9F0C for GET RESPONSE.
 */
function runGsmAlgorithm(state: CardState, cmd: CommandApdu): Uint8Array {
  if (cmd.p1 !== 0 || cmd.p2 !== 0) return sw(SW.WRONG_P1P2);
  if (cmd.data?.length !== RAND_BYTES || cmd.le !== undefined) return sw(SW.WRONG_LENGTH);
  const df = state.sel.path[state.sel.path.length - 1]!;
  if (df.fid !== FID.DF_GSM) return sw(SW.GSM_FILE_INCONSISTENT);
  if (!allowed(state, 'pin1')) return sw(SWS.sim.accessDenied);
  const { sres, kc } = gsmAnswer(state, cmd.data);
  return deliver(state, 'sim', cmd, concatBytes(sres, kc));
}

/**
 * TS 31.102 §7.1.2: the USIM ADF must be the current application (else
 * 6985) and PIN1 verified (6982). 3G context: `DB 08 RES 10 CK 10 IK 08 Kc`
 * (the card offers GSM access, service n°27, so Kc is there), `DC 0E AUTS`
 * on a sync failure, SW 9862 on a wrong MAC. GSM context: `04 SRES 08 Kc`.
 */
function authenticate(state: CardState, cmd: CommandApdu): Uint8Array {
  if (cmd.p1 !== 0 || (cmd.p2 !== P2_3G && cmd.p2 !== P2_GSM)) return sw(SWS.usim.badP1P2);
  const count = cmd.p2 === P2_3G ? 2 : 1;
  if (cmd.data?.length !== count * (RAND_BYTES + 1)) return sw(SW.WRONG_LENGTH);
  const values = fields16(cmd.data, count);
  if (values === undefined) return sw(SW.WRONG_DATA);
  if (!state.adfActive || state.sel.path[state.sel.path.length - 1] !== state.fs.adf) {
    return sw(SW.CONDITIONS_NOT_SATISFIED);
  }
  if (!allowed(state, 'pin1')) return sw(SWS.usim.accessDenied);
  const [rand, autn] = values as [Uint8Array, Uint8Array | undefined];
  if (autn === undefined) {
    const { sres, kc } = gsmAnswer(state, rand);
    return deliver(state, 'usim', cmd, concatBytes(lv(sres), lv(kc)));
  }
  const aka = state.aka!;
  const answer = answerChallenge(aka.milenage, aka.sqns, rand, autn);
  if (answer.status === 'mac-failure') return sw(SW.AUTH_INCORRECT_MAC);
  if (answer.status === 'sync-failure')
    return deliver(state, 'usim', cmd, concatBytes(Uint8Array.of(0xdc), lv(answer.auts)));
  const { res, ck, ik } = answer;
  const data = concatBytes(Uint8Array.of(0xdb), lv(res), lv(ck), lv(ik), lv(gsmKc(ck, ik)));
  return deliver(state, 'usim', cmd, data);
}

/** INS 88 in either class; a card without K has no such instruction (6D00). */
export function authenticateOrRunGsm(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  if (state.aka === undefined) return sw(SW.INS_NOT_SUPPORTED);
  return gen === 'sim' ? runGsmAlgorithm(state, cmd) : authenticate(state, cmd);
}
