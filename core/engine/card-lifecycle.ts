import type { Unsubscribe } from '../../hal/index.js';
import type { CardSession } from './card-session.js';
import type { SyncRunner } from './sync-runner.js';
import type { TerminalParts } from './terminal-parts.js';
import type { SyncReport } from './trigger-settings.js';
import type { TriggeredRuns } from './triggered-runs.js';

/** FIG. 16: what the terminal does when the SIM is mounted and when it is removed. */
export class CardLifecycle {
  private listeners: Unsubscribe[] = [];

  constructor(
    private readonly parts: TerminalParts,
    private readonly cards: CardSession,
    private readonly runner: SyncRunner,
    private readonly runs: TriggeredRuns,
  ) {}

  /** Mount on insertion, demount on removal, from now until `unfollow`. */
  follow(): void {
    const { reader } = this.parts.hal;
    this.listeners.push(
      reader.on('inserted', () => this.runs.track('mount', () => this.mount())),
      reader.on('removed', () => this.runs.track('demount', () => this.demount())),
    );
  }

  /** A SIM already in the reader counts as just inserted. */
  mountIfPresent(): void {
    if (this.parts.hal.reader.present()) this.runs.track('mount', () => this.mount());
  }

  unfollow(): void {
    for (const off of this.listeners.splice(0)) off();
  }

  /** Card inserted: open it, then download what this terminal lacks and upload what it has (FIG. 16). */
  async mount(): Promise<SyncReport | undefined> {
    const { mutex, config, settings } = this.parts;
    await mutex.run(async () => {
      await this.cards.openCard();
    });
    if ((await config.registration()) === undefined) return undefined;
    const how = settings.triggers?.onMount ?? 'sync';
    if (how === 'none') return undefined;
    if (how === 'check') {
      await this.runner.check();
      return undefined;
    }
    return this.runner.sync('mount', {});
  }

  /**
   * Card removed: upload what changed during this mount, holding the link
   * until done or `demountHoldMs` (FIG. 16 T1–T5), then close the link.
   */
  async demount(): Promise<SyncReport | undefined> {
    const subscriber = this.cards.forgetCard();
    const { config, settings } = this.parts;
    const upload = settings.triggers?.onDemount ?? true;
    if (!upload || subscriber === undefined || (await config.registration()) === undefined) {
      await this.cards.close();
      return undefined;
    }
    try {
      return await this.runner.run('demount', subscriber, { download: false }, settings.demountHoldMs);
    } finally {
      await this.cards.close();
    }
  }
}
