import type { CardReader, SimCard, UserAgent } from '../../hal/index.js';
import { authenticate } from '../auth/authenticate.js';
import { POLICIES } from '../auth/policy.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Held, Mutex } from '../mutex.js';
import type { Registration, TerminalConfig } from '../store/terminal-config.js';
import type { SealedData } from './sealed-data.js';
import { rejected, requireRegistration } from './told.js';

/** What the mounted card needs of the terminal, and no more. */
export interface MountedCardDeps {
  reader: CardReader;
  agent: UserAgent;
  log: Logger;
  config: TerminalConfig;
  mutex: Mutex;
  terminalId: string;
  seal: SealedData;
}

/**
 * The SIM in the reader (the SIM card 12 of the patent) as this terminal
 * holds it: opened once per mount, and who the terminal-side checks
 * authenticated with it. `mountedSubscriber` is read-only outside: set by a
 * sync that authenticated (`authenticatedOnMount`), ended by `forgetCard`
 * (the card left) or `forgetSubscriber` (a factory erase). Methods that need
 * the terminal's lock take its `Held` proof (core/mutex.ts).
 */
export class MountedCard {
  private card: SimCard | undefined;
  private subscriber: string | undefined;
  /** The card lifecycle follows the reader: the sealed data closes when its demount upload is done. */
  demountCloses = false;

  constructor(private readonly deps: MountedCardDeps) {
    // Whatever else listens, a removed card's session is gone.
    deps.reader.on('removed', () => {
      this.card = undefined;
      // [0023]: the key leaves with the SIM; the card lifecycle closes it after the demount upload instead.
      if (!this.demountCloses) deps.seal.close();
    });
  }

  get cardMounted(): boolean {
    return this.card !== undefined;
  }

  /** The card opened for this mount, if any (the AKA proof answers with it). */
  get current(): SimCard | undefined {
    return this.card;
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
    const { reader } = this.deps;
    if (!reader.present()) throw new SyncError('no-card', 'no SIM is mounted in this terminal');
    this.card = await reader.open();
    return this.card;
  }

  /**
   * The terminal-side checks of the registration's policy, under the lock;
   * resolves with the SIM's subscriber ID. With them passed (PIN verified by
   * the card), the sealed data opens (issue 19).
   */
  async authenticated(): Promise<{ registration: Registration; subscriber: string }> {
    const { agent, log, config, mutex, terminalId, seal } = this.deps;
    const registration = await requireRegistration(config, { agent, log });
    try {
      const subscriber = await mutex.run(async (held) => {
        const card = await this.openCard(held);
        const authenticatedAs = await authenticate({
          card,
          agent: seal.remembering(agent),
          policy: POLICIES[registration.policy],
          terminalId,
          boundSubscriberId: registration.subscriberId,
          passwordHash: await config.passwordHash(),
        });
        await seal.open(card);
        return authenticatedAs;
      });
      return { registration, subscriber };
    } catch (e) {
      throw rejected({ agent, log }, e);
    }
  }
}
