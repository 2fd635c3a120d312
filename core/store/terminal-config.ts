import { encode } from 'cborg';
import type { NvOp, NvStore } from '../../hal/index.js';
import type { PolicyName } from '../auth/policy.js';
import { type Category, type Filters, newTerminalIdentity } from '../protocol/index.js';
import { readValue } from './nv-value.js';

/**
 * The subscriber ID information registration area 6b (FIG. 5) and the
 * terminal's identity, kept in NV under `c/…`:
 *   c/terminal-id        stable per terminal, made once ([0032] "terminal ID")
 *   c/terminal-key       the key the ID commits to (core/protocol/terminal-identity.ts),
 *                        shown only to the server, in a registration request
 *   c/password           terminal password, salted slow hash ([0037])
 *   c/registration       what registration (FIG. 8 / 10-A / 11-A / 19) produced
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
    await this.nv.commit([{ op: 'put', key: 'c/password', value: encode(hash) }]);
  }

  registration(): Promise<Registration | undefined> {
    return readValue<Registration>(this.nv, 'c/registration');
  }

  async setRegistration(registration: Registration): Promise<void> {
    await this.nv.commit([{ op: 'put', key: 'c/registration', value: encode(registration) }]);
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
    ];
  }
}
