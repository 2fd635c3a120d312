import { isHalError, type PinResult, type PinStatus, type SimCard, type UserAgent } from '../../hal/index.js';
import { readTerminalIds, writeTerminalIds } from '../../uicc/index.js';
import { verifyTerminalPassword } from '../auth/authenticate.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { POLICIES, type PolicyName } from '../auth/policy.js';
import { type LocalRefusalCode, SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import { ServerSession } from '../net/server-session.js';
import { type Category, normaliseSelection, type RegisteredReply } from '../protocol/index.js';
import type { Registration, TerminalConfig } from '../store/terminal-config.js';
import type { MountedCard } from './mounted-card.js';
import type { PartsOf } from './terminal-parts.js';

export interface RegisterOptions {
  policy: PolicyName;
  /** The subscriber's login password or a one-time code (FIG. 8 S5), or the shop code (FIG. 19). */
  secret: string;
  categories: Category[];
  /** FIG. 19: registered at a shop, so no terminal password is asked. */
  shop?: boolean;
  /**
   * FIG. 8 S3: the terminal password the user just chose for a terminal that
   * has none. It is kept only once the server registered the terminal, so a
   * registration that fails or is cancelled leaves nothing half-written.
   */
  terminalPassword?: string;
}

/**
 * Card sessions in which the user entered PIN1 to this engine. FIG. 9's
 * check is "the user knows the PIN", not "the card is unlocked": a card
 * verified by someone else (another program on the modem, an unblock made
 * elsewhere) is asked for the PIN once more. A session ends with the mount.
 */
export type PinEntries = WeakSet<SimCard>;

function refuse(code: LocalRefusalCode, message: string): SyncError {
  return new SyncError('auth-refused', message, code);
}

/** "1 try left", "2 tries left". */
export function triesLeft(n: number): string {
  return `${n} ${n === 1 ? 'try' : 'tries'} left`;
}

/** The PIN prompt; before the last try it says what a wrong PIN does (TS 51.011 §9.4.5: 3 tries, then the PUK). */
export function pinPrompt(retriesLeft: number): string {
  if (retriesLeft === 1) return 'SIM PIN (1 try left: a wrong PIN now blocks the SIM)';
  return `SIM PIN (${triesLeft(retriesLeft)})`;
}

/** A card whose PIN1 is disabled needs none (the HAL reports `enabled: false` where it can tell). */
function needsNoPin(status: PinStatus): boolean {
  return (status as PinStatus & { enabled?: boolean }).enabled === false;
}

/**
 * The user enters PIN1 and the card verifies it (FIG. 8 S1–S2, [0036]); a
 * wrong PIN is asked again while the card has tries left. The card counts
 * them, software never compares; before the last try the prompt warns.
 * Nothing is asked of a card needing no PIN, or one the user already
 * entered the PIN for in this session. Rejects 'auth-refused' with code
 * 'pin-blocked' or 'cancelled' (no answer, or an empty one).
 */
export async function enterPin(card: SimCard, agent: UserAgent, entries: PinEntries): Promise<void> {
  for (;;) {
    const status = await card.pinStatus();
    if (needsNoPin(status) || (status.verified && entries.has(card))) return;
    if (status.retriesLeft === 0)
      throw refuse('pin-blocked', 'the SIM PIN is blocked: unblock it with the PUK');
    const pin = await agent.askPin(pinPrompt(status.retriesLeft));
    if (pin === undefined || pin.trim() === '') throw refuse('cancelled', 'PIN entry cancelled');
    if (!/^\d{4,8}$/.test(pin.trim())) {
      // Not a try: the card never sees it.
      agent.notify({ kind: 'info', text: 'a PIN is 4 to 8 digits; again' });
      continue;
    }
    const result = await presentPin(card, pin.trim());
    if (result.status === 'wrong') {
      agent.notify({ kind: 'info', text: `wrong PIN: ${triesLeft(result.retriesLeft)}` });
      continue;
    }
    if (result.status === 'blocked') {
      throw refuse('pin-blocked', 'wrong PIN: the SIM PIN is now blocked; unblock it with the PUK');
    }
    entries.add(card);
    return;
  }
}

async function presentPin(card: SimCard, pin: string): Promise<PinResult> {
  try {
    return await card.verifyPin(pin);
  } catch (e) {
    if (isHalError(e, 'pin-blocked')) return { status: 'blocked' };
    throw e;
  }
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

/** What a registration uses: the lock, the configuration it writes, the agent and the server exchange's parts. */
type RegistrationParts = PartsOf<
  'config' | 'log' | 'mutex' | 'settings' | 'terminalId',
  'agent' | 'clock' | 'link'
>;

/**
 * FIG. 8 user registration (S1–S6) followed by FIG. 10-A (bind the
 * subscriber ID, S25–S26) or FIG. 11-A (put this terminal's ID on the SIM,
 * S25a–S26a); with `shop`, FIG. 19 (no terminal password).
 */
export function registerTerminal(
  parts: RegistrationParts,
  mounted: MountedCard,
  entries: PinEntries,
  options: RegisterOptions,
): Promise<Registration> {
  const { hal, config, mutex, log, terminalId } = parts;
  return mutex.run(async (held) => {
    const chosen = options.shop ? undefined : options.terminalPassword;
    if (
      chosen !== undefined &&
      (await config.registration()) !== undefined &&
      (await config.passwordHash())
    ) {
      // A registered terminal's password changes only with the current one.
      throw refuse('password-wrong', 'this terminal has a terminal password: it is asked, not chosen');
    }
    // Hashed before anything reaches the server: after its reply only NV commits remain.
    const chosenHash = chosen === undefined ? undefined : await hashNewPassword(chosen);
    const card = await mounted.openCard(held);
    await enterPin(card, hal.agent, entries);
    const terminalPassword = options.shop
      ? undefined
      : (chosen ?? (await askTerminalPassword(hal.agent, config)));
    const subscriberId = await card.imsi();
    const iccid = await card.iccid();
    // FIG. 11-A: the card first, so a SIM with no room (a full phonebook) fails
    // before the server registers anything; a server refusal then takes the ID
    // off the card again. Either way both sides end as they were.
    const joined =
      POLICIES[options.policy].binding === 'terminal-list' ? await joinSimList(card, terminalId) : undefined;
    let reply: RegisteredReply;
    try {
      reply = await requestRegistration(parts, {
        subscriberId,
        iccid,
        secret: options.secret,
        categories: normaliseSelection(options.categories),
        terminalPassword,
      });
    } catch (e) {
      if (joined?.added) {
        await writeTerminalIds(card, joined.before).catch((undo: unknown) =>
          log.error({ err: undo }, 'could not take the terminal ID off the SIM again'),
        );
      }
      throw e;
    }
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
    // After the registration: a cut in between leaves a registered terminal without a
    // password, which asks for one at its next mount (see needsFirstPassword), never the reverse.
    if (chosenHash !== undefined) await config.setPasswordHash(chosenHash);
    log.info({ terminalId, policy: options.policy }, 'registered');
    return registration;
  });
}

async function hashNewPassword(password: string): Promise<string> {
  if (password.length < 4)
    throw new SyncError('auth-refused', 'terminal password too short (4+)', 'password-weak');
  return hashPassword(password);
}

/**
 * FIG. 19 registers a terminal without a terminal password; a policy that
 * checks one (FIG. 9, FIG. 12) would then refuse every sync. True when this
 * terminal is in that state.
 */
export async function needsFirstPassword(config: TerminalConfig): Promise<boolean> {
  const registration = await config.registration();
  if (registration === undefined || !POLICIES[registration.policy].terminalPassword) return false;
  return (await config.passwordHash()) === undefined;
}

/**
 * The first terminal password of a terminal that has none (shop
 * registration), set by the holder of the registered SIM: its ICCID is
 * compared first (a stranger's SIM is never asked for a PIN), then PIN1 is
 * entered and verified by the card, then the IMSI must be the registered
 * subscriber's. Refuses when a password exists: changing one needs the
 * current one (`changeTerminalPassword`).
 */
export function setFirstTerminalPassword(
  parts: PartsOf<'config' | 'mutex', 'agent'>,
  mounted: MountedCard,
  entries: PinEntries,
  password: string,
): Promise<void> {
  const { config, mutex, hal } = parts;
  return mutex.run(async (held) => {
    const registration = await config.registration();
    if (registration === undefined) {
      throw new SyncError('not-registered', 'this terminal is not registered: run the registration first');
    }
    if ((await config.passwordHash()) !== undefined) {
      throw refuse(
        'password-wrong',
        'this terminal has a terminal password: give the current one to change it',
      );
    }
    const hash = await hashNewPassword(password);
    const card = await mounted.openCard(held);
    const iccid = await card.iccid();
    if (registration.iccid !== undefined && iccid !== registration.iccid) throw notRegisteredSim();
    await enterPin(card, hal.agent, entries);
    if ((await card.imsi()) !== registration.subscriberId) throw notRegisteredSim();
    await config.setPasswordHash(hash);
  });
}

/**
 * Asks the user to choose a terminal password and type it again; resolves
 * undefined when they give none (three mismatches, or no answer).
 */
export async function chooseTerminalPassword(agent: UserAgent, why: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const first = await agent.askTerminalPassword(`Choose a terminal password (${why})`);
    if (first === undefined || first === '') return undefined;
    const again = await agent.askTerminalPassword('Repeat it');
    if (again === undefined) return undefined;
    if (first === again && first.length >= 4) return first;
    agent.notify({
      kind: 'info',
      text: first === again ? 'at least 4 characters, please' : 'they differ; again',
    });
  }
  return undefined;
}

function notRegisteredSim(): SyncError {
  return refuse('subscriber-mismatch', 'this SIM is not the one registered with this terminal');
}

/** FIG. 11-A undone: this terminal's ID leaves the SIM's list, when the SIM is here. */
export async function leaveSimList(
  parts: PartsOf<'mutex' | 'terminalId', 'reader'>,
  mounted: MountedCard,
): Promise<void> {
  if (!parts.hal.reader.present()) return;
  await parts.mutex.run(async (held) => {
    const card = await mounted.openCard(held);
    const listed = await readTerminalIds(card);
    if (listed.includes(parts.terminalId))
      await writeTerminalIds(
        card,
        listed.filter((t) => t !== parts.terminalId),
      );
  });
}

/** FIG. 11-A S25a–S26a: this terminal's ID joins the SIM's list; says what the list was. */
async function joinSimList(card: SimCard, terminalId: string): Promise<{ before: string[]; added: boolean }> {
  const listed = await readTerminalIds(card);
  if (listed.includes(terminalId)) return { before: listed, added: false };
  await writeTerminalIds(card, [...listed, terminalId]);
  return { before: listed, added: true };
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
  parts: PartsOf<'config' | 'settings' | 'terminalId', 'link' | 'clock'>,
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
