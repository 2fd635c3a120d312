import type { SimCard, UserAgent } from '../../hal/index.js';
import { createDataKey, openDataKey, rewrapDataKey } from '../auth/data-key.js';
import { hashPassword, verifyPassword } from '../auth/password.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import { SEAL_KEY, SEALED_MESSAGE, type SealedNvStore } from '../store/sealed-nv-store.js';
import type { TerminalConfig } from '../store/terminal-config.js';

/** What the seal needs of the terminal, and no more. */
export interface SealedDataDeps {
  /** TerminalOptions.sealed: seal a plain store at its next opening. */
  wanted: boolean;
  agent: UserAgent;
  config: TerminalConfig;
  terminalId: string;
  log: Logger;
}

/**
 * When the sealed store opens and closes (issue 19, [0023]): it opens once
 * per mount, after the terminal-side checks passed with the registered SIM
 * in (its PIN verified by the card), when the user gives the terminal
 * password; it closes when the SIM leaves (after the FIG. 16 demount upload,
 * when the card lifecycle runs one). A plain store of a terminal set to
 * `sealed` is sealed at that first opening, in one commit.
 */
export class SealedData {
  constructor(
    private readonly deps: SealedDataDeps,
    readonly store: SealedNvStore,
  ) {}

  /** Whether a SIM is needed to see the data at all: the store is sealed. */
  get sealed(): boolean {
    return this.store.sealed;
  }

  /**
   * An agent that remembers the terminal password the user gives through it
   * (a FIG. 9/12 check just before): `open` then takes that one instead of
   * asking twice in a row.
   */
  remembering(agent: UserAgent): UserAgent {
    this.given = undefined;
    return {
      askPin: (prompt) => agent.askPin(prompt),
      askPermission: (question) => agent.askPermission(question),
      notify: (notice) => agent.notify(notice),
      askTerminalPassword: async (prompt) => {
        const answer = await agent.askTerminalPassword(prompt);
        this.given = answer;
        return answer;
      },
    };
  }

  /** The password given through `remembering` for the opening under way; used once, then forgotten. */
  private given: string | undefined;

  /** Opens the store with `card` (PIN verified) and the terminal password; seals a plain one if so set. */
  async open(card: SimCard): Promise<void> {
    const given = this.given;
    this.given = undefined;
    const { store } = this;
    const { wanted, agent, config, terminalId, log } = this.deps;
    if (store.open || (!store.sealed && !wanted)) return;
    const hash = await config.passwordHash();
    if (hash === undefined) {
      throw new SyncError(
        'auth-refused',
        'sealing the data needs a terminal password: set one (passwd), then sync again',
        'no-password',
      );
    }
    // A password handed over by the check just before was verified there: one slow hash fewer.
    const password = given ?? (await agent.askTerminalPassword('Terminal password (opens the sealed data)'));
    if (password === undefined) throw new SyncError('auth-refused', 'password entry cancelled', 'cancelled');
    if (given === undefined && !(await verifyPassword(password, hash))) {
      throw new SyncError('auth-refused', 'wrong terminal password', 'password-wrong');
    }
    const seal = await store.inner.get(SEAL_KEY);
    if (seal !== undefined) {
      store.unlock(await openDataKey(card, password, terminalId, seal));
      return;
    }
    const { dataKey, setup } = await createDataKey(card, password, terminalId);
    const sealed = await store.seal(dataKey, setup);
    log.info({ sealed }, 'personal data sealed');
    agent.notify({
      kind: 'info',
      text: `personal data sealed at rest (${sealed} entries): it opens with this SIM, its PIN and the terminal password`,
    });
  }

  /** Drops the data key: the SIM is out. */
  close(): void {
    this.store.lock();
  }

  /** Refuses an access that would need the data while no SIM can open it. */
  requireSim(): void {
    if (this.store.sealed) throw new SyncError('no-card', SEALED_MESSAGE, 'sealed');
  }

  /**
   * A new terminal password: the data key is wrapped anew under it (with
   * `card`, PIN verified, for the card secret), in the same commit as the
   * new hash, so a power cut leaves the old pair or the new one.
   */
  async changePassword(card: SimCard | undefined, current: string, chosen: string): Promise<void> {
    const seal = await this.store.inner.get(SEAL_KEY);
    if (seal === undefined) return;
    if (card === undefined) {
      throw new SyncError(
        'no-card',
        'insert the SIM: the sealed data is wrapped anew under the new password with it',
        'sealed',
      );
    }
    const { config, terminalId } = this.deps;
    if (chosen.length < 4)
      throw new SyncError('auth-refused', 'terminal password too short (4+)', 'password-weak');
    const stored = await config.passwordHash();
    if (stored === undefined || !(await verifyPassword(current, stored))) {
      throw new SyncError('auth-refused', 'the current terminal password is wrong', 'password-wrong');
    }
    const ops = await rewrapDataKey(card, current, chosen, terminalId, seal);
    await this.store.commit([...ops, ...config.passwordHashOps(await hashPassword(chosen))]);
  }
}
