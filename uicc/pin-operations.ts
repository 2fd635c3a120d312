import { type CardChannel, errorForSw } from './card-channel.js';
import { UiccError } from './errors.js';
import { FID } from './file-ids.js';
import { isValidPin, isValidPuk } from './pin-block.js';
import { simCommands } from './sim-commands.js';
import { retriesFromSw, SW } from './status-words.js';
import { usimCommands } from './usim-commands.js';

/** Same shapes as hal/card-reader.ts, so a HAL can return them unchanged. */
export type PinResult = { status: 'ok' } | { status: 'wrong'; retriesLeft: number } | { status: 'blocked' };

export interface PinStatus {
  verified: boolean;
  retriesLeft: number;
}

/**
 * Tries PIN1 has after a successful verification. A 3G card answers a
 * status VERIFY with plain 9000 once verified (TS 102 221 §11.1.9), without
 * the count; a right PIN resets the counter to its maximum, which is 3 on
 * the cards this layer targets (the usual initial value; the card does not say).
 */
const PIN1_MAX_TRIES = 3;

/** PIN1 / PUK1 tries left from the 2G GSM response of the MF (TS 51.011 §9.2.1 bytes 19–20). */
async function gsmCounters(channel: CardChannel): Promise<{ pin: number; puk: number; enabled: boolean }> {
  const info = await channel.select([FID.MF]);
  if (info.pin1RetriesLeft === undefined || info.pukRetriesLeft === undefined) {
    throw new UiccError('bad-response', 'MF response without CHV status bytes');
  }
  return { pin: info.pin1RetriesLeft, puk: info.pukRetriesLeft, enabled: info.pin1Enabled !== false };
}

/** A 3G VERIFY / UNBLOCK answer as a PinResult; other SWs are errors. */
function usimResult(sw: number, what: string): PinResult {
  if (sw === SW.OK) return { status: 'ok' };
  const left = retriesFromSw(sw);
  if (left !== undefined) return left === 0 ? { status: 'blocked' } : { status: 'wrong', retriesLeft: left };
  if (sw === SW.AUTH_METHOD_BLOCKED) return { status: 'blocked' };
  throw errorForSw(sw, what);
}

/** A 2G answer: 9804 is a wrong code with the count in the MF response; 9840 is blocked (TS 51.011 §9.4.5). */
async function simResult(
  channel: CardChannel,
  sw: number,
  what: string,
  counter: 'pin' | 'puk',
): Promise<PinResult> {
  if (sw === SW.OK) return { status: 'ok' };
  if (sw === SW.GSM_CHV_BLOCKED) return { status: 'blocked' };
  if (sw !== SW.GSM_ACCESS_DENIED) throw errorForSw(sw, what);
  const left = (await gsmCounters(channel))[counter];
  return left === 0 ? { status: 'blocked' } : { status: 'wrong', retriesLeft: left };
}

export async function verifyPin(channel: CardChannel, pin: string): Promise<PinResult> {
  if (!isValidPin(pin)) throw new UiccError('bad-argument', 'PIN1 must be 4–8 decimal digits');
  if (channel.application === 'usim') {
    return usimResult((await channel.run(usimCommands.verifyPin(pin))).sw, 'VERIFY PIN');
  }
  return simResult(channel, (await channel.run(simCommands.verifyChv1(pin))).sw, 'VERIFY CHV1', 'pin');
}

export async function unblockPin(channel: CardChannel, puk: string, newPin: string): Promise<PinResult> {
  if (!isValidPuk(puk)) throw new UiccError('bad-argument', 'PUK must be 8 decimal digits');
  if (!isValidPin(newPin)) throw new UiccError('bad-argument', 'new PIN1 must be 4–8 decimal digits');
  if (channel.application === 'usim') {
    return usimResult((await channel.run(usimCommands.unblockPin(puk, newPin))).sw, 'UNBLOCK PIN');
  }
  return simResult(
    channel,
    (await channel.run(simCommands.unblockChv1(puk, newPin))).sw,
    'UNBLOCK CHV1',
    'puk',
  );
}

/**
 * 3G: VERIFY without data (TS 102 221 §11.1.9). 2G has no such query, so the
 * count comes from the MF response and "verified" from whether EF_IMSI
 * (read access CHV1, TS 51.011 §10.3.2) can be read.
 */
export async function pinStatus(channel: CardChannel): Promise<PinStatus> {
  if (channel.application === 'usim') {
    const sw = (await channel.run(usimCommands.pinRetries())).sw;
    if (sw === SW.OK) return { verified: true, retriesLeft: PIN1_MAX_TRIES };
    const left = retriesFromSw(sw);
    if (left !== undefined) return { verified: false, retriesLeft: left };
    if (sw === SW.AUTH_METHOD_BLOCKED) return { verified: false, retriesLeft: 0 };
    throw errorForSw(sw, 'VERIFY PIN (status)');
  }
  const counters = await gsmCounters(channel);
  if (!counters.enabled) return { verified: true, retriesLeft: counters.pin };
  await channel.select([FID.MF, FID.DF_GSM, FID.EF_IMSI]);
  const sw = (await channel.run(simCommands.readBinary(0, 1))).sw;
  if (sw === SW.OK) return { verified: true, retriesLeft: counters.pin };
  if (sw === SW.GSM_ACCESS_DENIED) return { verified: false, retriesLeft: counters.pin };
  throw errorForSw(sw, 'READ BINARY EF_IMSI (PIN probe)');
}
