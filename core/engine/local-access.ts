import { verifyTerminalPassword } from '../auth/authenticate.js';
import { authenticateHolder } from '../auth/holder.js';
import { POLICIES } from '../auth/policy.js';
import { SyncError } from '../errors.js';
import type { Refusal, Registration } from '../store/terminal-config.js';
import type { MountedCard } from './mounted-card.js';
import type { PartsOf } from './terminal-parts.js';

/** What a user action does with the personal data: show it, or also change it. */
export type AccessIntent = 'read' | 'write';

/** The permission one user action was given; it holds while the card stays as it was. */
export interface Grant {
  readonly intent: AccessIntent;
  /** Granted with the registered SIM in the reader; otherwise by the terminal password ([0068]). */
  readonly withSim: boolean;
  /** Card insertions and removals seen before the grant. */
  readonly epoch: number;
}

/**
 * Who may see or change the personal data kept on this terminal (area 6a),
 * asked before anything of it is read ([0023]; issue 13 item 8):
 *
 * - A terminal the server refused (revoked, or its credential no longer
 *   accepted) opens nothing, to anyone, until the server accepts it again or
 *   it is registered again. The refusal is kept in NV (`c/refused`).
 * - An unregistered terminal holds no one's data and opens nothing.
 * - With a SIM in the reader: only the registered SIM, through the
 *   registered policy's checks and the subscriber check a server would make
 *   (core/auth/holder.ts). A stranger's SIM is refused before any PIN prompt.
 * - With no SIM: the terminal password proves the terminal's owner; then the
 *   data may be shown, and changed only when `withoutSim` is 'editable'
 *   ([0023] prefers read-only, [0068] permits edits). A terminal with no
 *   password (shop registration, FIG. 19) opens nothing without its SIM.
 */
export class LocalAccess {
  private epoch = 0;

  constructor(
    private readonly parts: PartsOf<
      'config' | 'mutex' | 'seal' | 'settings' | 'terminalId',
      'agent' | 'reader'
    >,
    private readonly card: MountedCard,
  ) {
    const changed = () => {
      this.epoch++;
    };
    parts.hal.reader.on('inserted', changed);
    parts.hal.reader.on('removed', changed);
  }

  /** Runs the checks for one user action; rejects SyncError when the data must stay closed. */
  async grant(intent: AccessIntent): Promise<Grant> {
    const epoch = this.epoch;
    await this.refuseIfRefused();
    const registration = await this.parts.config.registration();
    if (registration === undefined) {
      throw new SyncError('not-registered', 'this terminal is not registered: it opens no data until it is');
    }
    const withSim = this.parts.hal.reader.present();
    if (withSim) await this.checkHolder(registration);
    else await this.checkOwnerWithoutSim(intent);
    const grant = { intent, withSim, epoch };
    await this.confirm(grant, intent);
    return grant;
  }

  /** Before each use of a grant: the card is as it was, nothing was refused since, the intent was granted. */
  async confirm(grant: Grant, intent: AccessIntent): Promise<void> {
    if (grant.epoch !== this.epoch || this.parts.hal.reader.present() !== grant.withSim) {
      throw new SyncError(
        'auth-refused',
        'the SIM was inserted or removed meanwhile: run the command again',
        'card-changed',
      );
    }
    if (intent === 'write' && grant.intent !== 'write') {
      throw new SyncError('read-only', 'this access was opened for reading only', 'read-access');
    }
    await this.refuseIfRefused();
  }

  private async refuseIfRefused(): Promise<void> {
    const refusal = await this.parts.config.refusal();
    if (refusal !== undefined) throw refusedError(refusal);
  }

  private async checkHolder(registration: Registration): Promise<void> {
    const { hal, config, mutex, terminalId } = this.parts;
    await mutex.run(async (held) => {
      const card = await this.card.openCard(held);
      const iccid = await authenticateHolder({
        card,
        agent: this.parts.seal.remembering(hal.agent),
        policy: POLICIES[registration.policy],
        terminalId,
        boundSubscriberId: registration.subscriberId,
        boundIccid: registration.iccid,
        passwordHash: await config.passwordHash(),
      });
      // A registration made before ICCIDs were kept learns it from the first card that passes.
      if (registration.iccid === undefined) await config.setRegistration({ ...registration, iccid });
      await this.parts.seal.open(card);
    });
  }

  private async checkOwnerWithoutSim(intent: AccessIntent): Promise<void> {
    const { config, settings, hal } = this.parts;
    // Sealed, the data has no key without its SIM: the terminal password alone opens nothing (issue 19).
    this.parts.seal.requireSim();
    if (intent === 'write' && (settings.withoutSim ?? 'read-only') === 'read-only') {
      throw new SyncError('read-only', 'personal data is read-only while no SIM is mounted', 'no-sim');
    }
    const hash = await config.passwordHash();
    if (hash === undefined) {
      throw new SyncError(
        'no-card',
        'insert the SIM: without it only the terminal password opens the data, and this terminal has none',
      );
    }
    await verifyTerminalPassword(hal.agent, hash);
  }
}

function refusedError(refusal: Refusal): SyncError {
  const when = new Date(refusal.at).toISOString();
  return new SyncError(
    'auth-refused',
    `the server refused this terminal on ${when} (${refusal.reason}): revoked or no longer accepted, it keeps its data closed until the server accepts it again or it is registered again`,
    'revoked',
  );
}
