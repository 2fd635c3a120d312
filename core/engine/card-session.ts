import type { SimCard, UserAgent } from '../../hal/index.js';
import { authenticate } from '../auth/authenticate.js';
import { POLICIES } from '../auth/policy.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ServerSession } from '../net/server-session.js';
import type { Registration } from '../store/terminal-config.js';
import type { TerminalParts } from './terminal-parts.js';

/**
 * The SIM opened in the reader, the server session, and the authentication
 * by policy that binds the two. Methods that say so must be called with
 * the terminal's lock held; the others take it.
 */
export class CardSession {
  private card: SimCard | undefined;
  private session: ServerSession | undefined;
  /** Subscriber authenticated during the current mount: the demount upload uses it, the card being gone. */
  mountedSubscriber: string | undefined;

  constructor(private readonly parts: TerminalParts) {
    // Whatever else listens, a removed card's session is gone.
    parts.hal.reader.on('removed', () => {
      this.card = undefined;
    });
  }

  get cardMounted(): boolean {
    return this.card !== undefined;
  }

  /** The card is out: forgets it and resolves who was authenticated during the mount. */
  forgetCard(): string | undefined {
    const subscriber = this.mountedSubscriber;
    this.card = undefined;
    this.mountedSubscriber = undefined;
    return subscriber;
  }

  /** With the lock held: the SIM, opened once per mount. */
  async openCard(): Promise<SimCard> {
    if (this.card !== undefined) return this.card;
    const { reader } = this.parts.hal;
    if (!reader.present()) throw new SyncError('no-card', 'no SIM is mounted in this terminal');
    this.card = await reader.open();
    return this.card;
  }

  /**
   * With the lock held: the open server session, or a new one on the
   * terminal channel. Whether the server accepted this terminal's credential
   * is kept (see `noteStanding`).
   */
  async connect(registration: Registration): Promise<ServerSession> {
    if (this.session?.isOpen) return this.session;
    const { hal, terminalId, settings, config } = this.parts;
    try {
      this.session = await ServerSession.connect({
        link: hal.link,
        clock: hal.clock,
        terminalId,
        channel: 't',
        password: registration.credential,
        timeoutMs: settings.timeoutMs,
        onNotice: (notice) => hal.agent.notify({ kind: 'server-updates', categories: notice.categories }),
      });
    } catch (e) {
      await this.noteStanding(e);
      throw e;
    }
    if ((await config.refusal()) !== undefined) await config.clearRefusal();
    return this.session;
  }

  /**
   * The server's word on this terminal, kept in NV so that local access
   * follows it (local-access.ts): refused when the server names it revoked
   * (a reply with code 'revoked', or CONNACK 5), or refuses its credential
   * at CONNECT (CONNACK 2 or 4: 'connect-refused'); CONNACK 3, the server's
   * attempt limits ('throttled'), decides nothing. A later accepted CONNECT
   * or a new registration ends the refusal.
   */
  async noteStanding(error: unknown): Promise<void> {
    if (!refusesTerminal(error)) return;
    const { config, hal, log } = this.parts;
    await config.setRefusal({ at: hal.clock.now(), reason: error.message });
    log.warn({ code: error.code }, 'server refused this terminal: local data closed');
  }

  /** With the lock held: closes the server session, if any. */
  async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  /** Takes the lock and closes the server session. */
  close(): Promise<void> {
    return this.parts.mutex.run(() => this.closeSession());
  }

  /** With the lock held: a failure leaves the session in doubt, so it is closed; resolves the error, told. */
  async failed(error: unknown): Promise<unknown> {
    await this.closeSession();
    await this.noteStanding(error);
    return this.rejected(error);
  }

  async requireRegistration(): Promise<Registration> {
    const registration = await this.parts.config.registration();
    if (registration !== undefined) return registration;
    throw this.rejected(
      new SyncError('not-registered', 'this terminal is not registered: run the registration first'),
    );
  }

  /** The terminal-side checks of the registration's policy; resolves with the SIM's subscriber ID. */
  async authenticated(): Promise<{ registration: Registration; subscriber: string }> {
    const registration = await this.requireRegistration();
    const { hal, config, mutex, terminalId } = this.parts;
    try {
      const subscriber = await mutex.run(async () => {
        const card = await this.openCard();
        return authenticate({
          card,
          agent: hal.agent,
          policy: POLICIES[registration.policy],
          terminalId,
          boundSubscriberId: registration.subscriberId,
          passwordHash: await config.passwordHash(),
        });
      });
      return { registration, subscriber };
    } catch (e) {
      throw this.rejected(e);
    }
  }

  /** Tells the user why a sync did not happen (FIG. 9 S17, 10-B S35, 13 S55), once per error. */
  rejected(error: unknown): unknown {
    return tellRejected(this.parts.hal.agent, this.parts.log, error);
  }
}

/** A refusal of this terminal itself, not of one request or of the SIM's subscriber. */
function refusesTerminal(error: unknown): error is SyncError {
  return (
    error instanceof SyncError &&
    error.kind === 'server-refused' &&
    (error.code === 'revoked' || error.code === 'connect-refused')
  );
}

const reported = new WeakSet<Error>();

function tellRejected(agent: UserAgent, log: Logger, error: unknown): unknown {
  if (!(error instanceof Error) || reported.has(error)) return error;
  reported.add(error);
  agent.notify({ kind: 'sync-rejected', reason: error.message });
  const kind = (error as { kind?: unknown }).kind;
  const code = (error as { code?: unknown }).code;
  log.warn({ kind, code }, error.message);
  return error;
}
