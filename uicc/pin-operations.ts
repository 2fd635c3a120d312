import type { PinResult, PinStatus } from '../hal/index.js';
import { type CardChannel, errorForSw } from './card-channel.js';
import { UiccError } from './errors.js';
import { FID } from './file-ids.js';
import { isValidPin, isValidPuk } from './pin-block.js';
import { simCommands } from './sim-commands.js';
import { retriesFromSw, SW } from './status-words.js';
import { usimCommands } from './usim-commands.js';

/**
 * Tries PIN1 has after a successful verification. A 3G card answers a
 * status VERIFY with plain 9000 once verified (TS 102 221 §11.1.9), without
 * the count; a right PIN resets the counter to its maximum, which is 3 on
 * the cards this layer targets (the usual initial value; the card does not say).
 */
const PIN1_MAX_TRIES = 3;

interface Counters {
  enabled: boolean;
  pin: number;
  puk: number | undefined;
}

/**
 * 2G: CHV1 enabled (byte 14 b8 clear) and CHV1 / UNBLOCK CHV1 tries
 * (bytes 19–20) from the GSM response of the MF (TS 51.011 §9.2.1).
 */
async function gsmCounters(channel: CardChannel): Promise<Counters> {
  const info = await channel.select([FID.MF]);
  if (info.pin1RetriesLeft === undefined || info.pukRetriesLeft === undefined) {
    throw new UiccError('bad-response', 'MF response without CHV status bytes');
  }
  return { pin: info.pin1RetriesLeft, puk: info.pukRetriesLeft, enabled: info.pin1Enabled !== false };
}

/**
 * 3G: whether PIN1 is enabled, from the PS_DO of the PIN status template
 * C6 (TS 102 221 §11.1.1.4.10) in the FCP of ADF_USIM, else of the MF. A
 * card that says nothing is taken as PIN1 enabled, the safe reading.
 */
async function usimPin1Enabled(channel: CardChannel): Promise<boolean> {
  for (const path of [['adf'], [FID.MF]] as const) {
    const enabled = (await channel.select(path)).pin1Enabled;
    if (enabled !== undefined) return enabled;
  }
  return true;
}

/** UNBLOCK PIN without data (TS 102 221 §11.1.13): 63Cx = PUK tries; undefined when the card will not say. */
async function usimPukRetries(channel: CardChannel): Promise<number | undefined> {
  const sw = (await channel.run(usimCommands.pukRetries())).sw;
  if (sw === SW.AUTH_METHOD_BLOCKED) return 0;
  return retriesFromSw(sw);
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
  const left = (await gsmCounters(channel))[counter] ?? 0;
  return left === 0 ? { status: 'blocked' } : { status: 'wrong', retriesLeft: left };
}

/**
 * Presents PIN1, unless the card has PIN1 disabled: then nothing is sent
 * and the result is 'disabled' (TS 51.011 §9.2.9 and TS 102 221 §11.1.9.1.1
 * refuse verification of a disabled PIN; a 2G card that answers 9808 anyway
 * is read the same way).
 */
export async function verifyPin(channel: CardChannel, pin: string): Promise<PinResult> {
  if (!isValidPin(pin)) throw new UiccError('bad-argument', 'PIN1 must be 4–8 decimal digits');
  if (channel.application === 'usim') {
    if (!(await usimPin1Enabled(channel))) return { status: 'disabled' };
    return usimResult((await channel.run(usimCommands.verifyPin(pin))).sw, 'VERIFY PIN');
  }
  if (!(await gsmCounters(channel)).enabled) return { status: 'disabled' };
  const sw = (await channel.run(simCommands.verifyChv1(pin))).sw;
  if (sw === SW.GSM_CHV_CONTRADICTION && !(await gsmCounters(channel)).enabled) return { status: 'disabled' };
  return simResult(channel, sw, 'VERIFY CHV1', 'pin');
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

function status(counters: Counters, verified: boolean): PinStatus {
  return {
    enabled: counters.enabled,
    verified: verified || !counters.enabled,
    retriesLeft: counters.pin,
    blocked: counters.pin === 0,
    ...(counters.puk === undefined ? {} : { pukRetriesLeft: counters.puk }),
  };
}

/**
 * PIN1 state as the card keeps it; nothing here costs a try.
 * 3G: enabled from the PS_DO (not from VERIFY: real cards answer a status
 * VERIFY with 63Cx even with PIN1 disabled), tries from VERIFY without data
 * (TS 102 221 §11.1.9), the PUK's from UNBLOCK PIN without data (§11.1.13).
 * 2G: all from the MF's GSM response; "verified" from whether EF_IMSI
 * (read access CHV1, TS 51.011 §10.3.2) can be read.
 */
export async function pinStatus(channel: CardChannel): Promise<PinStatus> {
  if (channel.application === 'usim') {
    const enabled = await usimPin1Enabled(channel);
    const puk = await usimPukRetries(channel);
    const sw = (await channel.run(usimCommands.pinRetries())).sw;
    if (sw === SW.OK) return status({ enabled, pin: PIN1_MAX_TRIES, puk }, true);
    const left = retriesFromSw(sw);
    if (left !== undefined) return status({ enabled, pin: left, puk }, false);
    if (sw === SW.AUTH_METHOD_BLOCKED) return status({ enabled, pin: 0, puk }, false);
    throw errorForSw(sw, 'VERIFY PIN (status)');
  }
  const counters = await gsmCounters(channel);
  if (!counters.enabled) return status(counters, true);
  await channel.select([FID.MF, FID.DF_GSM, FID.EF_IMSI]);
  const sw = (await channel.run(simCommands.readBinary(0, 1))).sw;
  if (sw === SW.OK) return status(counters, true);
  if (sw === SW.GSM_ACCESS_DENIED) return status(counters, false);
  throw errorForSw(sw, 'READ BINARY EF_IMSI (PIN probe)');
}
