import type { SimCard, UserAgent } from '../../hal/index.js';
import { verifyPinWithCard, verifyTerminalPassword } from '../auth/authenticate.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { POLICIES, type PolicyName } from '../auth/policy.js';
import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import { ServerSession } from '../net/server-session.js';
import { type Category, normaliseSelection, type RegisteredReply } from '../protocol/index.js';
import type { Registration, TerminalConfig } from '../store/terminal-config.js';
import type { CardSession } from './card-session.js';
import type { TerminalParts } from './terminal-parts.js';

export interface RegisterOptions {
  policy: PolicyName;
  /** The subscriber's login password or a one-time code (FIG. 8 S5), or the shop code (FIG. 19). */
  secret: string;
  categories: Category[];
  /** FIG. 19: registered at a shop, so no terminal password is asked. */
  shop?: boolean;
}

/** Sets the terminal password kept (hashed) in area 6b; the current one is needed to change it. */
export async function changeTerminalPassword(
  config: TerminalConfig,
  password: string,
  current?: string,
): Promise<void> {
  if (password.length < 4)
    throw new SyncError('auth-refused', 'terminal password too short (4+)', 'password-weak');
  const stored = await config.passwordHash();
  if (stored !== undefined && !(current !== undefined && (await verifyPassword(current, stored)))) {
    throw new SyncError('auth-refused', 'the current terminal password is wrong', 'password-wrong');
  }
  await config.setPasswordHash(await hashPassword(password));
}

/**
 * FIG. 8 user registration (S1–S6) followed by FIG. 10-A (bind the
 * subscriber ID, S25–S26) or FIG. 11-A (put this terminal's ID on the SIM,
 * S25a–S26a); with `shop`, FIG. 19 (no terminal password).
 */
export function registerTerminal(
  parts: TerminalParts,
  cards: CardSession,
  options: RegisterOptions,
): Promise<Registration> {
  const { hal, config, mutex, log, terminalId } = parts;
  return mutex.run(async () => {
    const card = await cards.openCard();
    await verifyPinWithCard(card, hal.agent, true);
    const terminalPassword = options.shop ? undefined : await askTerminalPassword(hal.agent, config);
    const subscriberId = await card.imsi();
    const iccid = await card.iccid();
    const reply = await requestRegistration(parts, {
      subscriberId,
      iccid,
      secret: options.secret,
      categories: normaliseSelection(options.categories),
      terminalPassword,
    });
    if (POLICIES[options.policy].binding === 'terminal-list') await joinSimList(card, terminalId);
    const registration: Registration = {
      policy: options.policy,
      subscriberId,
      credential: reply.credential,
      categories: reply.categories,
      registeredAt: hal.clock.now(),
      iccid,
    };
    // A new registration also ends a refusal the server gave the old one (local-access.ts).
    await config.recordRegistration(registration);
    log.info({ terminalId, policy: options.policy }, 'registered');
    return registration;
  });
}

/** FIG. 11-A undone: this terminal's ID leaves the SIM's list, when the SIM is here. */
export async function leaveSimList(parts: TerminalParts, cards: CardSession): Promise<void> {
  if (!parts.hal.reader.present()) return;
  await parts.mutex.run(async () => {
    const card = await cards.openCard();
    const listed = await card.readTerminalIds();
    if (listed.includes(parts.terminalId))
      await card.writeTerminalIds(listed.filter((t) => t !== parts.terminalId));
  });
}

/** FIG. 11-A S25a–S26a: this terminal's ID joins the SIM's list. */
async function joinSimList(card: SimCard, terminalId: string): Promise<void> {
  const listed = await card.readTerminalIds();
  if (!listed.includes(terminalId)) await card.writeTerminalIds([...listed, terminalId]);
}

/** FIG. 8: verifies the terminal password as the user types it, and keeps it for the server. */
async function askTerminalPassword(agent: UserAgent, config: TerminalConfig): Promise<string | undefined> {
  let typed: string | undefined;
  const capture: UserAgent = {
    ...agent,
    askPin: (p) => agent.askPin(p),
    askPermission: (q) => agent.askPermission(q),
    notify: (n) => agent.notify(n),
    askTerminalPassword: async (prompt) => {
      typed = await agent.askTerminalPassword(prompt);
      return typed;
    },
  };
  await verifyTerminalPassword(capture, await config.passwordHash());
  return typed;
}

/** What this terminal tells the server when it registers. */
interface RegistrationRequest {
  subscriberId: string;
  iccid: string;
  secret: string;
  categories: Category[];
  terminalPassword: string | undefined;
}

/** FIG. 8 S5–S6: the registration exchange, on its own channel, closed whatever happens. */
async function requestRegistration(
  parts: TerminalParts,
  request: RegistrationRequest,
): Promise<RegisteredReply> {
  const { hal, terminalId, settings } = parts;
  const { subscriberId, iccid, categories, terminalPassword } = request;
  const terminalKey = await parts.config.terminalKey();
  const session = await ServerSession.connect({
    link: hal.link,
    clock: hal.clock,
    terminalId,
    channel: 'reg',
    password: `${subscriberId}:${request.secret}`,
    timeoutMs: settings.timeoutMs,
  });
  try {
    const reply = await session.request({
      type: 'register',
      subscriber: subscriberId,
      iccid,
      categories,
      ...(terminalPassword === undefined ? {} : { terminalPassword }),
      ...(terminalKey === undefined ? {} : { terminalKey }),
    });
    return expectReply(reply, 'registered');
  } finally {
    await session.close();
  }
}
