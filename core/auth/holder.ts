import { SyncError } from '../errors.js';
import { type AuthInput, authenticate } from './authenticate.js';

export interface HolderInput extends AuthInput {
  /** FIG. 10-A S26: the subscriber ID registered with; local access needs it whatever the policy. */
  boundSubscriberId: string;
  /** ICCID of the SIM registered with; undefined for registrations made before it was kept. */
  boundIccid: string | undefined;
}

function notTheRegisteredSim(): SyncError {
  return new SyncError(
    'auth-refused',
    'this SIM is not the one registered with this terminal: its data stays closed',
    'subscriber-mismatch',
  );
}

/**
 * The checks before the personal data kept here is shown or changed with a
 * SIM in the reader ([0023]; issue 13 item 8). A sync leaves the last word to
 * the server (FIG. 13/14); local access has no server behind it, so the
 * terminal makes the server's check itself, whatever the policy: the card
 * must be the registered subscriber's. The ICCID, which the card gives
 * without PIN, is compared first, so a stranger's card is refused before
 * anyone is asked for its PIN; then the registered policy's checks run
 * (FIG. 9 / 10-B / 11-B / 12: PIN verified by the card, terminal password,
 * binding), then the IMSI, readable after PIN1, is compared with the bound
 * subscriber ID. Resolves the card's ICCID.
 */
export async function authenticateHolder(input: HolderInput): Promise<string> {
  const iccid = await input.card.iccid();
  if (input.boundIccid !== undefined && iccid !== input.boundIccid) throw notTheRegisteredSim();
  const subscriberId = await authenticate(input);
  if (subscriberId !== input.boundSubscriberId) throw notTheRegisteredSim();
  return iccid;
}
