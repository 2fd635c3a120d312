import type { Client } from 'aedes';
import type { Channel } from '../core/protocol/index.js';
import type { RegSecret } from './sync/register.js';

/** Who a connection proved to be at CONNECT; everything it may do follows from this. */
export interface Session {
  channel: Channel;
  terminalId: string;
  /** t: the subscriber the terminal is registered to; reg: the subscriber whose secret was given. */
  subscriber: string;
  /** reg only: how it proved itself (a code is consumed by a successful register). */
  secret: RegSecret | null;
}

/**
 * The authenticated connections, by client and by terminal, so that a
 * revocation can close them at once and notices go only to terminals online.
 */
export class Sessions {
  private readonly byClient = new WeakMap<Client, Session>();
  private readonly byTerminal = new Map<string, Set<Client>>();

  attach(client: Client, session: Session): void {
    this.byClient.set(client, session);
    let clients = this.byTerminal.get(session.terminalId);
    if (!clients) {
      clients = new Set();
      this.byTerminal.set(session.terminalId, clients);
    }
    clients.add(client);
    const detach = () => this.detach(client, session.terminalId);
    client.conn.once('close', detach);
    if (client.conn.destroyed) detach();
  }

  private detach(client: Client, terminalId: string): void {
    const clients = this.byTerminal.get(terminalId);
    clients?.delete(client);
    if (clients?.size === 0) this.byTerminal.delete(terminalId);
  }

  of(client: Client | null): Session | undefined {
    return client ? this.byClient.get(client) : undefined;
  }

  /** Open connections of a terminal, on one channel or both. */
  clients(terminalId: string, channel?: Channel): Client[] {
    const all = [...(this.byTerminal.get(terminalId) ?? [])];
    return channel ? all.filter((c) => this.byClient.get(c)?.channel === channel) : all;
  }

  isOnline(terminalId: string, channel: Channel = 't'): boolean {
    return this.clients(terminalId, channel).some((c) => !c.closed);
  }

  /** Closes every connection of a terminal (revocation, new credential). */
  kick(terminalId: string, channel?: Channel): number {
    const clients = this.clients(terminalId, channel);
    for (const c of clients) c.close();
    return clients.length;
  }
}
