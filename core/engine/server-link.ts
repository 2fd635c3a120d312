import type { Clock, RadioLink, SimCard, UserAgent } from '../../hal/index.js';
import { proveCard } from '../auth/aka-proof.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Held, Mutex } from '../mutex.js';
import { ServerSession } from '../net/server-session.js';
import type { Registration, TerminalConfig } from '../store/terminal-config.js';
import type { MountedCard } from './mounted-card.js';
import { rejected } from './told.js';

/** What the server link needs of the terminal, and no more. */
export interface ServerLinkDeps {
  link: RadioLink;
  clock: Clock;
  agent: UserAgent;
  log: Logger;
  config: TerminalConfig;
  mutex: Mutex;
  terminalId: string;
  timeoutMs: number;
  /** The card the AKA proof is asked of (TS 33.102 §6.3). */
  card: MountedCard;
}

/**
 * The MQTT session with the server on the terminal channel: opened when a
 * sync needs it and kept while it stays open, proven by the mounted card
 * when the server asks for AKA, closed when a failure leaves it in doubt.
 * The server's standing refusal of this terminal is kept in NV
 * (`noteStanding`). Methods that need the terminal's lock take its `Held`.
 */
export class ServerLink {
  private session: ServerSession | undefined;
  /**
   * The subscriber the server said needs no AKA proof (it holds no key for
   * it): its cards are not asked again, saving a round trip a session, until
   * the server refuses with 'aka-required' (`withProof`).
   */
  private notRequiredFor: string | undefined;
  /** The connection the proof was skipped on, as the server had said it needs none. */
  private skipped: ServerSession | undefined;
  /** The connection the card now mounted answered the server's challenge on. */
  private proven: { session: ServerSession; card: SimCard } | undefined;

  constructor(private readonly deps: ServerLinkDeps) {}

  /**
   * The open server session, or a new one. Whether the server accepted this
   * terminal's credential is kept (see `noteStanding`).
   */
  async connect(_held: Held, registration: Registration): Promise<ServerSession> {
    if (this.session?.isOpen) {
      // The card may have changed since this connection was proven: a new card answers anew.
      await this.proveCard(this.session, registration);
      return this.session;
    }
    const { link, clock, agent, terminalId, timeoutMs, config } = this.deps;
    try {
      this.session = await ServerSession.connect({
        link,
        clock,
        terminalId,
        channel: 't',
        password: registration.credential,
        timeoutMs,
        onNotice: (notice) => agent.notify({ kind: 'server-updates', categories: notice.categories }),
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
   * Runs `work` on `session`. When the card's proof was skipped there (the
   * server had said the subscriber needs none) and the server now asks for
   * it ('aka-required': an AKA key was set since), the card answers the
   * challenge and `work` runs once more. The refused request changed nothing
   * on the server, and nothing here is changed but by a reply; a batch it
   * left in flight is resent under its own id.
   */
  async withProof<T>(session: ServerSession, registration: Registration, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (!isAkaRequired(e) || this.skipped !== session || !session.isOpen) throw e;
      this.notRequiredFor = undefined;
      this.skipped = undefined;
      await this.proveCard(session, registration);
      return work();
    }
  }

  /**
   * TS 33.102 §6.3 on a new connection, or on the open one when another
   * card was mounted since: the mounted card answers the server's challenge
   * (core/auth/aka-proof.ts). Asked while the card is in, until the server
   * says it holds no AKA key for the subscriber; then not again for that
   * subscriber's cards (a later 'aka-required' refusal asks again,
   * `withProof`). With the card out (the upload after demount) there is
   * nothing to prove with: a server that wants the proof refuses, and the
   * changes wait for the next mount.
   */
  private async proveCard(session: ServerSession, registration: Registration): Promise<void> {
    const { card: mounted } = this.deps;
    const card = mounted.current;
    if (card === undefined) return;
    const subscriber = mounted.mountedSubscriber ?? registration.subscriberId;
    if (this.notRequiredFor === subscriber) {
      this.skipped = session;
      return;
    }
    if (this.proven?.session === session && this.proven.card === card) return;
    try {
      const outcome = await proveCard(session, card, subscriber);
      if (outcome === 'not-required') this.notRequiredFor = subscriber;
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
    if (isAkaRequired(error)) this.notRequiredFor = undefined;
    if (!refusesTerminal(error)) return;
    const { config, clock, log } = this.deps;
    await config.setRefusal({ at: clock.now(), reason: error.message });
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
    return this.deps.mutex.run((held) => this.closeSession(held));
  }

  /** A failure leaves the session in doubt, so it is closed; resolves the error, told. */
  async failed(held: Held, error: unknown): Promise<unknown> {
    await this.closeSession(held);
    await this.noteStanding(error);
    return rejected(this.deps, error);
  }

  /**
   * Authenticate, then lock: the terminal-side checks of the registered
   * policy (with their PIN prompt), then under the lock the server session,
   * and `work` with all of it. A failure inside leaves the session in doubt:
   * it is closed and the user told (`failed`).
   */
  async withAuthenticatedSession<T>(
    work: (s: {
      held: Held;
      session: ServerSession;
      registration: Registration;
      subscriber: string;
    }) => Promise<T>,
  ): Promise<T> {
    const { registration, subscriber } = await this.deps.card.authenticated();
    return this.deps.mutex.run(async (held) => {
      try {
        const session = await this.connect(held, registration);
        return await this.withProof(session, registration, () =>
          work({ held, session, registration, subscriber }),
        );
      } catch (e) {
        throw await this.failed(held, e);
      }
    });
  }
}

function isAkaRequired(error: unknown): error is SyncError {
  return error instanceof SyncError && error.code === 'aka-required';
}

/** A refusal of this terminal itself, not of one request or of the SIM's subscriber. */
function refusesTerminal(error: unknown): error is SyncError {
  return (
    error instanceof SyncError &&
    error.kind === 'server-refused' &&
    (error.code === 'revoked' || error.code === 'connect-refused')
  );
}
