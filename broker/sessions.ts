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
  /**
   * Where replies to this connection go: the terminal's down topic on `t`; on
   * `reg`, the topic of its own it subscribed to (regReplyTopic), null until then.
   */
  replyTopic: string | null;
  /** The terminal reads compressed payloads (core/protocol/envelope.ts): learned from its requests. */
  compress?: boolean;
  /** t only: how far the card got proving itself on this connection (TS 33.102 §6.3); absent = not asked yet. */
  aka?: AkaProof;
}

/**
 * A connection's AKA state: no key for the subscriber (nothing to prove); a
 * challenge out, its expected RES kept here only; proven; or failed (a wrong
 * RES or AUTS: the connection is closed after the refusal).
 */
export type AkaProof =
  | { step: 'not-required' }
  | { step: 'challenged'; rand: Uint8Array; xres: Uint8Array; expiresAt: number }
  | { step: 'proven' }
  | { step: 'failed' };

/**
 * The authenticated connections, by client and by terminal, so that a
 * revocation can close them at once and notices go only to terminals online.
 */
export class Sessions {
  private readonly byClient = new WeakMap<Client, Session>();
  private readonly byTerminal = new Map<string, Set<Client>>();
  /** Registration reply topics bound by live connections: one connection each. */
  private readonly replyTopics = new Map<string, Client>();

  /** `ended` is told once of each attached session, when its connection closes. */
  constructor(private readonly ended: (session: Session) => void = () => {}) {}

  attach(client: Client, session: Session): void {
    this.byClient.set(client, session);
    let clients = this.byTerminal.get(session.terminalId);
    if (!clients) {
      clients = new Set();
      this.byTerminal.set(session.terminalId, clients);
    }
    clients.add(client);
    const detach = () => this.detach(client, session);
    client.conn.once('close', detach);
    if (client.conn.destroyed) detach();
  }

  private detach(client: Client, session: Session): void {
    const clients = this.byTerminal.get(session.terminalId);
    clients?.delete(client);
    if (clients?.size === 0) this.byTerminal.delete(session.terminalId);
    if (session.channel === 'reg' && session.replyTopic !== null) {
      if (this.replyTopics.get(session.replyTopic) === client) this.replyTopics.delete(session.replyTopic);
    }
    this.ended(session);
  }

  /**
   * Binds a registration connection to its reply topic: once per connection,
   * and only to a topic no other live connection holds.
   */
  bindReplyTopic(client: Client, topic: string): boolean {
    const session = this.byClient.get(client);
    if (session?.channel !== 'reg') return false;
    if (session.replyTopic !== null) return session.replyTopic === topic;
    if (this.replyTopics.has(topic)) return false;
    session.replyTopic = topic;
    this.replyTopics.set(topic, client);
    return true;
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
