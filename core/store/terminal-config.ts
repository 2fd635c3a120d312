import { encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import type { PolicyName } from '../auth/policy.js';
import { type Category, type Filters, newTerminalIdentity } from '../protocol/index.js';
import { readValue } from './nv-value.js';
import { SEAL_KEY } from './sealed-nv-store.js';

/**
 * The subscriber ID information registration area 6b (FIG. 5) and the
 * terminal's identity, kept in NV under `c/…`:
 *   c/terminal-id        stable per terminal, made once ([0032] "terminal ID")
 *   c/terminal-key       the key the ID commits to (core/protocol/terminal-identity.ts),
 *                        shown only to the server, in a registration request
 *   c/password           terminal password, salted slow hash ([0037])
 *   c/registration       what registration (FIG. 8 / 10-A / 11-A / 19) produced
 *   c/refused            the server's last refusal of this terminal (revoked), until it
 *                        accepts the terminal again or a new registration
 */
export interface Registration {
  policy: PolicyName;
  /** FIG. 10-A S26: the subscriber ID bound to this terminal. */
  subscriberId: string;
  /** The connection credential issued by the server; secret, never shown again. */
  credential: string;
  categories: Category[];
  /** [0033] finer criteria (folder, recency) set with the categories. */
  filters?: Filters;
  registeredAt: number;
  /**
   * ICCID of the SIM registered with (readable without PIN): local access
   * refuses any other card before asking for a PIN. Absent in registrations
   * made before it was kept; the first access that passes the checks adds it.
   */
  iccid?: string;
}

/** The server refused this terminal's credential or named it revoked (issue 13 item 8). */
export interface Refusal {
  at: number;
  /** The server's words, shown to the user. */
  reason: string;
}

export class TerminalConfig {
  constructor(private readonly nv: NvStore) {}

  /**
   * The terminal ID, created on first use with its key (in one commit) and
   * kept. A `preferred` ID has no key: the server takes it only for a pair
   * the operator created (FIG. 18/19 shop registration).
   */
  async terminalId(preferred?: string): Promise<string> {
    const kept = await readValue<string>(this.nv, 'c/terminal-id');
    if (kept !== undefined) return kept;
    if (preferred !== undefined) {
      await this.nv.commit([{ op: 'put', key: 'c/terminal-id', value: encode(preferred) }]);
      return preferred;
    }
    // 18 decimal digits: fits every store of the FIG. 11-A list, the phonebook fallback included.
    const { key, terminalId } = await newTerminalIdentity();
    await this.nv.commit([
      { op: 'put', key: 'c/terminal-id', value: encode(terminalId) },
      { op: 'put', key: 'c/terminal-key', value: encode(key) },
    ]);
    return terminalId;
  }

  /** The key the terminal ID commits to; undefined for an ID made before keys, or a preferred one. */
  terminalKey(): Promise<Uint8Array | undefined> {
    return readValue<Uint8Array>(this.nv, 'c/terminal-key');
  }

  passwordHash(): Promise<string | undefined> {
    return readValue<string>(this.nv, 'c/password');
  }

  async setPasswordHash(hash: string): Promise<void> {
    await this.nv.commit(this.passwordHashOps(hash));
  }

  /** The operations of `setPasswordHash`, to commit together with others (a seal wrapped anew). */
  passwordHashOps(hash: string): NvOp[] {
    return [{ op: 'put', key: 'c/password', value: encode(hash) }];
  }

  registration(): Promise<Registration | undefined> {
    return readValue<Registration>(this.nv, 'c/registration');
  }

  async setRegistration(registration: Registration): Promise<void> {
    await this.nv.commit(this.registrationOps(registration));
  }

  /** The operations of `setRegistration`, to commit together with others. */
  registrationOps(registration: Registration): NvOp[] {
    return [{ op: 'put', key: 'c/registration', value: encode(registration) }];
  }

  /**
   * A new registration: replaces the old one and forgets a refusal, in one
   * commit, so a power cut cannot leave a fresh registration locked.
   */
  async recordRegistration(registration: Registration): Promise<void> {
    await this.nv.commit([
      { op: 'put', key: 'c/registration', value: encode(registration) },
      { op: 'del', key: 'c/refused' },
    ]);
  }

  /** The server's last refusal of this terminal, while it stands. */
  refusal(): Promise<Refusal | undefined> {
    return readValue<Refusal>(this.nv, 'c/refused');
  }

  async setRefusal(refusal: Refusal): Promise<void> {
    await this.nv.commit([{ op: 'put', key: 'c/refused', value: encode(refusal) }]);
  }

  async clearRefusal(): Promise<void> {
    await this.nv.commit([{ op: 'del', key: 'c/refused' }]);
  }

  async setCategories(categories: Category[]): Promise<void> {
    const current = await this.registration();
    if (current === undefined) throw new Error('not registered');
    await this.setRegistration({ ...current, categories });
  }

  /** Factory state (FIG. 20 hand-on): forget registration and password, keep nothing personal. */
  async clear(): Promise<void> {
    await this.nv.commit(this.clearOps());
  }

  /** The operations of `clear`, to commit together with an erase. */
  clearOps(): NvOp[] {
    return [
      { op: 'del', key: 'c/registration' },
      { op: 'del', key: 'c/password' },
      // The seal goes with the data: a terminal handed on starts plain (its new owner seals anew).
      { op: 'del', key: SEAL_KEY },
    ];
  }
}
