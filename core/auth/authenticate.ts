import type { SimCard, UserAgent } from '../../hal/index.js';
import { isHalError } from '../../hal/index.js';
import { readTerminalIds } from '../../uicc/index.js';
import { type LocalRefusalCode, SyncError } from '../errors.js';
import { verifyPassword } from './password.js';
import type { AuthPolicy } from './policy.js';

function refuse(code: LocalRefusalCode, message: string): SyncError {
  return new SyncError('auth-refused', message, code);
}

/**
 * Has the card verify PIN1 (FIG. 8 S1–S2, FIG. 9 S11–S12). The PIN is never
 * compared in software: the card counts the tries and blocks on the third
 * wrong one. With `always` false a card already verified in this session
 * (the power-on PIN, [0036]) is not asked again. A card with PIN1 disabled
 * (its PIN status template, TS 102 221 §9.5.2; TS 51.011 §9.2.1 byte 14)
 * needs none and is asked nothing: a VERIFY would only answer 9808 or 63Cx.
 */
export async function verifyPinWithCard(card: SimCard, agent: UserAgent, always: boolean): Promise<void> {
  const status = await card.pinStatus();
  if (!status.enabled) return;
  if (status.retriesLeft === 0)
    throw refuse('pin-blocked', 'the SIM PIN is blocked: unblock it with the PUK');
  if (status.verified && !always) return;
  const pin = await agent.askPin(
    status.retriesLeft === 1
      ? 'SIM PIN (1 try left: a wrong PIN now blocks the SIM)'
      : `SIM PIN (${status.retriesLeft} tries left)`,
  );
  if (pin === undefined) throw refuse('cancelled', 'PIN entry cancelled');
  let result: Awaited<ReturnType<SimCard['verifyPin']>>;
  try {
    result = await card.verifyPin(pin);
  } catch (e) {
    if (isHalError(e, 'pin-blocked'))
      throw refuse('pin-blocked', 'the SIM PIN is blocked: unblock it with the PUK');
    throw e;
  }
  if (result.status === 'disabled') return;
  if (result.status === 'blocked') throw refuse('pin-blocked', 'wrong PIN: the SIM PIN is now blocked');
  if (result.status === 'wrong') {
    throw refuse(
      'pin-wrong',
      `wrong PIN: ${result.retriesLeft} ${result.retriesLeft === 1 ? 'try' : 'tries'} left`,
    );
  }
}

/** FIG. 8 S3–S4 / FIG. 12 S43–S44: the terminal password against its stored salted hash. */
export async function verifyTerminalPassword(
  agent: UserAgent,
  storedHash: string | undefined,
): Promise<void> {
  if (storedHash === undefined) throw refuse('no-password', 'this terminal has no terminal password set');
  const password = await agent.askTerminalPassword('Terminal password');
  if (password === undefined) throw refuse('cancelled', 'password entry cancelled');
  if (!(await verifyPassword(password, storedHash)))
    throw refuse('password-wrong', 'wrong terminal password');
}

export interface AuthInput {
  card: SimCard;
  agent: UserAgent;
  policy: AuthPolicy;
  terminalId: string;
  /** Subscriber ID bound at FIG. 10-A (registration area 6b). */
  boundSubscriberId: string | undefined;
  passwordHash: string | undefined;
}

/**
 * The terminal-side checks before every sync, by policy (FIG. 9, 10-B,
 * 11-B, 12; FIG. 13 runs none of them). Resolves with the subscriber ID read
 * from the SIM, to name in the request (FIG. 13 S52). Rejects 'auth-refused'
 * before any server request is made.
 */
export async function authenticate(input: AuthInput): Promise<string> {
  const { card, agent, policy } = input;
  // The IMSI is readable only after PIN1 ([0036]: the power-on PIN), whatever the policy.
  await verifyPinWithCard(card, agent, policy.pinEachSync);
  if (policy.terminalPassword) await verifyTerminalPassword(agent, input.passwordHash);
  const subscriberId = await card.imsi();
  if (policy.binding === 'subscriber-id') {
    // FIG. 10-B S32/S35: unregistered, or another subscriber's SIM → rejected.
    if (input.boundSubscriberId === undefined)
      throw refuse('not-bound', 'no subscriber is bound to this terminal');
    if (input.boundSubscriberId !== subscriberId) {
      throw refuse('subscriber-mismatch', 'this SIM is not the one registered with this terminal');
    }
  }
  if (policy.binding === 'terminal-list') {
    // FIG. 11-B S31a–S32a.
    const listed = await readTerminalIds(card);
    if (!listed.includes(input.terminalId)) {
      throw refuse('terminal-not-listed', 'this terminal is not associated with the SIM');
    }
  }
  return subscriberId;
}
