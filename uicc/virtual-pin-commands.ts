import type { CommandApdu } from './apdu.js';
import { PIN_BLOCK_BYTES } from './pin-block.js';
import { SW } from './status-words.js';
import { type CardState, type Generation, ok, SWS, sw } from './virtual-card-state.js';

/** VERIFY and UNBLOCK for PIN1 (TS 51.011 §9.2.9/§9.2.13; TS 102 221 §11.1.9/§11.1.13). */

/** Key reference of PIN1 in P2: 01 for VERIFY on both generations; UNBLOCK CHV1 on 2G uses 00. */
const KEY_PIN1 = 0x01;

/** A well-formed new PIN block: 4–8 ASCII digits then FF (TS 102 221 §9.5.1). */
function isPinBlock(block: Uint8Array): boolean {
  let n = 0;
  while (n < block.length && block[n]! >= 0x30 && block[n]! <= 0x39) n++;
  return n >= 4 && block.subarray(n).every((b) => b === 0xff);
}

export function verify(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  const s = SWS[gen];
  if (cmd.p1 !== 0) return sw(SW.WRONG_P1P2);
  if (cmd.p2 !== KEY_PIN1) return sw(gen === 'sim' ? SW.WRONG_P1P2 : SW.REFERENCED_DATA_NOT_FOUND);
  if (cmd.le !== undefined) return sw(SW.WRONG_LENGTH);
  if (cmd.data === undefined) {
    // TS 102 221 §11.1.9: VERIFY without data asks for the status. TS 51.011 has no such form.
    // Real cards answer 63Cx here even with PIN1 disabled (REFERENCES.md), so this card does too.
    if (gen === 'sim') return sw(SW.WRONG_LENGTH);
    if (state.pin.blocked) return sw(s.blocked);
    return state.pinVerified ? ok() : sw(s.wrongSecret(state.pin.left));
  }
  if (cmd.data.length !== PIN_BLOCK_BYTES) return sw(SW.WRONG_LENGTH);
  // Verification needs the PIN enabled (TS 51.011 §9.2.9, TS 102 221 §11.1.9.1.1); nothing is counted.
  // 2G answers 9808 (in contradiction with CHV status); 3G 6984, ISO 7816-4's "reference data not usable".
  if (!state.pin1Enabled) return sw(gen === 'sim' ? SW.GSM_CHV_CONTRADICTION : SW.REFERENCE_DATA_INVALIDATED);
  const result = state.pin.present(cmd.data);
  if (result === 'ok') {
    state.pinVerified = true;
    return ok();
  }
  state.pinVerified = false;
  // The presentation that uses the last try answers "blocked" (TS 51.011 §9.4.5: 9840).
  return sw(result === 'blocked' ? s.blocked : s.wrongSecret(state.pin.left));
}

export function unblock(state: CardState, gen: Generation, cmd: CommandApdu): Uint8Array {
  const s = SWS[gen];
  if (cmd.p1 !== 0) return sw(SW.WRONG_P1P2);
  const p2 = gen === 'sim' ? 0x00 : KEY_PIN1;
  if (cmd.p2 !== p2) return sw(gen === 'sim' ? SW.WRONG_P1P2 : SW.REFERENCED_DATA_NOT_FOUND);
  if (cmd.le !== undefined) return sw(SW.WRONG_LENGTH);
  if (cmd.data === undefined) {
    // TS 102 221 §11.1.13: UNBLOCK PIN without data returns the PUK counter.
    if (gen === 'sim') return sw(SW.WRONG_LENGTH);
    return sw(state.puk.blocked ? s.blocked : s.wrongSecret(state.puk.left));
  }
  if (cmd.data.length !== 2 * PIN_BLOCK_BYTES) return sw(SW.WRONG_LENGTH);
  const newPin = cmd.data.subarray(PIN_BLOCK_BYTES);
  // TS 51.011 defines no SW for a malformed new CHV (the ME formats it); 3G answers 6A80.
  if (!isPinBlock(newPin) && gen === 'usim') return sw(SW.WRONG_DATA);
  const result = state.puk.present(cmd.data.subarray(0, PIN_BLOCK_BYTES));
  if (result !== 'ok') return sw(result === 'blocked' ? s.blocked : s.wrongSecret(state.puk.left));
  state.pin.replace(newPin);
  // The new PIN was just presented together with the PUK, so PIN1 counts as verified.
  state.pinVerified = true;
  return ok();
}
