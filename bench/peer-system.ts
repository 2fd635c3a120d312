import type { Rec } from './peer-data.js';
import type { CountingProxy } from './peer-proxy.js';

/**
 * One system of bench/peers.ts as the workloads drive it: a server in a
 * process of its own, reached through the counting proxy, and clients (the
 * user's devices) in the bench's process.
 */

/** What a record is: a contact (vCard text) or a photo (binary, large). */
export type Kind = 'contacts' | 'photos';

export interface PeerClient {
  /** The user's edits on this device, made between sessions (no network). */
  edit(kind: Kind, records: readonly Rec[]): Promise<void>;
  /**
   * One whole session, as FIG. 16's mount to demount: connect, bring down
   * what the other devices changed, run `during` (edits made while
   * connected), send up what changed here, disconnect. Resolves once this
   * device holds what the server held and the server holds this device's
   * changes.
   */
  session(during?: () => Promise<void>): Promise<void>;
  /** Records held here. */
  count(kind: Kind): Promise<number>;
  /** A record's body held here. */
  get(kind: Kind, id: string): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

export interface Deployment {
  /** The server process (its CPU and RSS are read from /proc). */
  pid: number;
  /** Every client connects through it. */
  proxy: CountingProxy;
  /** A device of the user; `name` must be one of those the deployment was made for. */
  client(name: string): Promise<PeerClient>;
  close(): Promise<void>;
}

export interface DeployOptions {
  /** A fresh directory for the server's data. */
  dir: string;
  /** The names of every client that will be asked for (simsync registers them at the shop first). */
  clients: readonly string[];
  kinds: readonly Kind[];
  timeoutMs: number;
}

export type Deploy = (options: DeployOptions) => Promise<Deployment>;
