import type { SimCard, UserAgent } from '../../hal/index.js';
import { proveCard } from '../auth/aka-proof.js';
import { authenticate } from '../auth/authenticate.js';
import { POLICIES } from '../auth/policy.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Held } from '../mutex.js';
import { ServerSession } from '../net/server-session.js';
import type { Registration } from '../store/terminal-config.js';
import type { TerminalParts } from './terminal-parts.js';

/**
 * The SIM opened in the reader, the server session, and the authentication
 * by policy that binds the two. Methods that need the terminal's lock take
 * its `Held` proof (core/mutex.ts); the others take the lock themselves.
 */
export class CardSession {
  private card: SimCard | undefined;
  private session: ServerSession | undefined;
  private subscriber: string | undefined;
  /** The server holds no AKA key for the mounted card's subscriber (learned this mount). */
  private akaNotRequired = false;
  /** The card lifecycle follows the reader: the sealed data closes when its demount upload is done. */
  demountCloses = false;
  /** The connection the card now mounted answered the server's challenge on. */
  private proven: { session: ServerSession; card: SimCard } | undefined;

  constructor(private readonly parts: TerminalParts) {
    // Whatever else listens, a removed card's session is gone.
    parts.hal.reader.on('removed', () => {
      this.card = undefined;
      this.akaNotRequired = false;
      // [0023]: the key leaves with the SIM; the card lifecycle closes it after the demount upload instead.
      if (!this.demountCloses) parts.seal.close();
    });
  }

  get cardMounted(): boolean {
    return this.card !== undefined;
  }

  /** Subscriber authenticated during the current mount: the demount upload uses it, the card being gone. */
  get mountedSubscriber(): string | undefined {
    return this.subscriber;
  }

  /** A sync authenticated this subscriber with the card now mounted; `forgetCard` or `forgetSubscriber` ends it. */
  authenticatedOnMount(subscriber: string): void {
    this.subscriber = subscriber;
  }

  /** The card stays open, but no subscriber counts as authenticated any more (a factory erase). */
  forgetSubscriber(): void {
    this.subscriber = undefined;
  }

  /** The card is out: forgets it and resolves who was authenticated during the mount. */
  forgetCard(): string | undefined {
    const subscriber = this.subscriber;
    this.card = undefined;
    this.subscriber = undefined;
    return subscriber;
  }

  /** The SIM, opened once per mount. */
  async openCard(_held: Held): Promise<SimCard> {
    if (this.card !== undefined) return this.card;
    const { reader } = this.parts.hal;
    if (!reader.present()) throw new SyncError('no-card', 'no SIM is mounted in this terminal');
    this.card = await reader.open();
    return this.card;
  }

  /**
   * The open server session, or a new one on the terminal channel. Whether the server accepted this terminal's credential
   * is kept (see `noteStanding`).
   */
  async connect(_held: Held, registration: Registration): Promise<ServerSession> {
    if (this.session?.isOpen) {
      // The card may have changed since this connection was proven: a new card answers anew.
      await this.proveCard(this.session, registration);
      return this.session;
    }
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
    await this.proveCard(this.session, registration);
    return this.session;
  }

  /**
   * TS 33.102 §6.3 on a new connection, or on the open one when another
   * card was mounted since: the mounted card answers the server's challenge
   * (core/auth/aka-proof.ts). Asked while the card is in, until the server says it holds no AKA key for the
   * subscriber; then not again during this mount (a later 'aka-required'
   * refusal asks again). With the card out (the upload after demount) there
   * is nothing to prove with: a server that wants the proof refuses, and the
   * changes wait for the next mount.
   */
  private async proveCard(session: ServerSession, registration: Registration): Promise<void> {
    const card = this.card;
    if (
      card === undefined ||
      this.akaNotRequired ||
      (this.proven?.session === session && this.proven.card === card)
    ) {
      return;
    }
    try {
      const outcome = await proveCard(session, card, this.subscriber ?? registration.subscriberId);
      this.akaNotRequired = outcome === 'not-required';
      this.proven = { session, card };
    } catch (e) {
      // An unproven connection is never reused: the next sync starts (and proves) afresh.
      if (this.session === session) this.session = undefined;
      await session.close();
      throw e;
    }
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
    // The server started asking for the card's proof: the next connection gives it.
    if (error instanceof SyncError && error.code === 'aka-required') this.akaNotRequired = false;
    if (!refusesTerminal(error)) return;
    const { config, hal, log } = this.parts;
    await config.setRefusal({ at: hal.clock.now(), reason: error.message });
    log.warn({ code: error.code }, 'server refused this terminal: local data closed');
  }

  /** Closes the server session, if any. */
  async closeSession(_held: Held): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  /** Takes the lock and closes the server session. */
  close(): Promise<void> {
    return this.parts.mutex.run((held) => this.closeSession(held));
  }

  /** A failure leaves the session in doubt, so it is closed; resolves the error, told. */
  async failed(held: Held, error: unknown): Promise<unknown> {
    await this.closeSession(held);
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
      const subscriber = await mutex.run(async (held) => {
        const card = await this.openCard(held);
        const authenticated = await authenticate({
          card,
          agent: this.parts.seal.remembering(hal.agent),
          policy: POLICIES[registration.policy],
          terminalId,
          boundSubscriberId: registration.subscriberId,
          passwordHash: await config.passwordHash(),
        });
        // The checks passed with this SIM in, its PIN verified: the sealed data may open (issue 19).
        await this.parts.seal.open(card);
        return authenticated;
      });
      return { registration, subscriber };
    } catch (e) {
      throw this.rejected(e);
    }
  }

  /**
   * Authenticate, then lock: the terminal-side checks of the registered
   * policy (with their PIN prompt, outside the lock), then under the lock
   * the server session, and `work` with all of it. A failure inside leaves
   * the session in doubt: it is closed and the user told (`failed`).
   */
  async withAuthenticatedSession<T>(
    work: (s: {
      held: Held;
      session: ServerSession;
      registration: Registration;
      subscriber: string;
    }) => Promise<T>,
  ): Promise<T> {
    const { registration, subscriber } = await this.authenticated();
    return this.parts.mutex.run(async (held) => {
      try {
        const session = await this.connect(held, registration);
        return await work({ held, session, registration, subscriber });
      } catch (e) {
        throw await this.failed(held, e);
      }
    });
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
