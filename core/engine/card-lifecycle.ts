import type { SimCard, Unsubscribe } from '../../hal/index.js';
import { POLICIES } from '../auth/policy.js';
import type { Registration } from '../store/terminal-config.js';
import type { BackgroundSyncs } from './background-syncs.js';
import type { MountedCard } from './mounted-card.js';
import {
  chooseTerminalPassword,
  enterPin,
  needsFirstPassword,
  type PinEntries,
  setFirstTerminalPassword,
} from './registration-flow.js';
import type { ServerLink } from './server-link.js';
import type { SyncReport } from './sync-report.js';
import type { SyncRunner } from './sync-runner.js';
import type { PartsOf } from './terminal-parts.js';

/** What became of the changes made here when the SIM left, or when the terminal stopped. */
export interface UploadOutcome {
  /** Changes the server acknowledged. */
  uploaded: number;
  /** Changes still only on this terminal. */
  pending: number;
  /** Why they stayed: the upload failed, ran out of time, or no one was authenticated to send them. */
  error?: unknown;
}

/** A SIM came or went (the user is told, issue 14). */
export type CardEvent = { kind: 'inserted' } | ({ kind: 'removed' } & UploadOutcome);

/** FIG. 16: what the terminal does when the SIM is mounted and when it is removed. */
export class CardLifecycle {
  private listeners: Unsubscribe[] = [];
  private readonly cardListeners = new Set<(event: CardEvent) => void>();

  constructor(
    private readonly parts: PartsOf<'config' | 'mutex' | 'records' | 'seal' | 'settings', 'agent' | 'reader'>,
    private readonly card: MountedCard,
    private readonly link: ServerLink,
    private readonly runner: SyncRunner,
    private readonly background: BackgroundSyncs,
    private readonly pinEntries: PinEntries,
  ) {}

  /** Mount on insertion, demount on removal, from now until `unfollow`. */
  follow(): void {
    const { reader } = this.parts.hal;
    this.card.demountCloses = true;
    this.listeners.push(
      reader.on('inserted', () => {
        this.emit({ kind: 'inserted' });
        this.background.track('mount', () => this.mount());
      }),
      reader.on('removed', () => this.background.track('demount', () => this.demount())),
    );
  }

  /** A SIM already in the reader counts as just inserted. */
  mountIfPresent(): void {
    if (this.parts.hal.reader.present()) this.background.track('mount', () => this.mount());
  }

  unfollow(): void {
    this.card.demountCloses = false;
    for (const off of this.listeners.splice(0)) off();
  }

  onCard(listener: (event: CardEvent) => void): Unsubscribe {
    this.cardListeners.add(listener);
    return () => this.cardListeners.delete(listener);
  }

  /**
   * Card inserted: open it, have the user enter the PIN for this session,
   * then download what this terminal lacks and upload what it has (FIG. 16).
   */
  async mount(): Promise<SyncReport | undefined> {
    const { config, settings } = this.parts;
    const registration = await config.registration();
    await this.openSession(registration);
    if (registration === undefined) return undefined;
    await this.firstPassword();
    const how = settings.triggers?.onMount ?? 'sync';
    if (how === 'none') return undefined;
    if (how === 'check') {
      await this.runner.check();
      return undefined;
    }
    return this.runner.sync('mount', {});
  }

  /**
   * Opens the card and, for a registered terminal, has the user enter PIN1
   * once for this session ([0036]), even when the card is already unlocked
   * (FIG. 9: the user knows the PIN). Not for a policy that asks at every
   * sync (its sync asks), nor for a SIM other than the registered one (its
   * holder is never asked for a PIN on this terminal's behalf).
   */
  async openSession(registration?: Registration): Promise<void> {
    const known = registration ?? (await this.parts.config.registration());
    await this.parts.mutex.run(async (held) => {
      const card = await this.card.openCard(held);
      if (known === undefined || POLICIES[known.policy].pinEachSync) return;
      if (!(await isRegisteredSim(card, known))) return;
      await enterPin(card, this.parts.hal.agent, this.pinEntries);
    });
  }

  /**
   * A shop-registered terminal (FIG. 19) whose policy checks a terminal
   * password has none: the SIM's holder chooses it at the first mount.
   * Nothing is set when they give none; the sync then says so.
   */
  private async firstPassword(): Promise<void> {
    if (!(await needsFirstPassword(this.parts.config))) return;
    const chosen = await chooseTerminalPassword(
      this.parts.hal.agent,
      'registered at a shop, this terminal has none and its policy checks one',
    );
    if (chosen === undefined) return;
    await setFirstTerminalPassword(this.parts, this.card, this.pinEntries, chosen);
    this.parts.hal.agent.notify({ kind: 'info', text: 'terminal password set' });
  }

  /**
   * Card removed: upload what changed during this mount, holding the link
   * until done or `demountHoldMs` (FIG. 16 T1–T5), then close the link.
   */
  async demount(): Promise<SyncReport | undefined> {
    const subscriber = this.card.forgetCard();
    const { config, settings, records } = this.parts;
    const upload = settings.triggers?.onDemount ?? true;
    if (!upload || subscriber === undefined || (await config.registration()) === undefined) {
      this.parts.seal.close();
      await this.link.close();
      this.emit({ kind: 'removed', uploaded: 0, pending: await records.dirtyCount() });
      return undefined;
    }
    try {
      const report = await this.runner.run(
        'demount',
        subscriber,
        { download: false },
        settings.demountHoldMs,
      );
      this.emit({ kind: 'removed', uploaded: report.uploaded.length, pending: await records.dirtyCount() });
      return report;
    } catch (e) {
      this.emit({ kind: 'removed', uploaded: 0, pending: await records.dirtyCount(), error: e });
      throw e;
    } finally {
      // [0023]: the demount upload was the last use of the data key this mount.
      if (!this.parts.hal.reader.present()) this.parts.seal.close();
      await this.link.close();
    }
  }

  /**
   * Before the terminal stops: uploads what is pending for the subscriber
   * authenticated during this mount, as at demount (FIG. 16), stopped after
   * `limitMs`. Asks nothing: whoever stops the terminal may not be at it.
   */
  async uploadPending(limitMs: number): Promise<UploadOutcome> {
    const { config, records } = this.parts;
    const pending = await records.dirtyCount();
    const subscriber = this.card.mountedSubscriber;
    if (pending === 0 || subscriber === undefined || (await config.registration()) === undefined) {
      return { uploaded: 0, pending };
    }
    try {
      const report = await this.runner.run('before-demount', subscriber, { download: false }, limitMs);
      return { uploaded: report.uploaded.length, pending: await records.dirtyCount() };
    } catch (e) {
      return { uploaded: 0, pending: await records.dirtyCount(), error: e };
    }
  }

  private emit(event: CardEvent): void {
    for (const listener of this.cardListeners) listener(event);
  }
}

/** The ICCID, readable without PIN, against the registered one (unknown for old registrations: yes). */
async function isRegisteredSim(card: SimCard, registration: Registration): Promise<boolean> {
  return registration.iccid === undefined || (await card.iccid()) === registration.iccid;
}
