import { type Channel, username } from '../core/protocol/index.js';
import type { Logger } from './logger.js';
import type { Session } from './sessions.js';
import type { AuditEntry } from './store/sync-store.js';

/**
 * A sync ends when its terminal has been quiet this long (or disconnects):
 * the terminal does not say when it is done, and one sync is several
 * requests close together (download pages, upload batches, parts, fetches).
 */
export const SYNC_QUIET_MS = 1000;

/** A subscriber ID (IMSI) as the log shows it: MCC and MNC (E.212), the network and not the person. */
export function shortSubscriber(subscriber: string): string {
  return `${subscriber.slice(0, 5)}…`;
}

/** How the log names a connection: the username it proved (`t:<terminal ID>`, `reg:<terminal ID>`). */
function nameOf(who: { channel: Channel; terminalId: string }): string {
  return username(who.channel, who.terminalId);
}

/** The requests that make a sync; probes ([0043]) and category changes only join one. */
const SYNC_ACTIONS: ReadonlySet<string> = new Set(['upload', 'upload-part', 'download', 'fetch']);

/** What an answered request says for the log: its audit line's outcome and counts. */
export type Counted = Pick<
  AuditEntry,
  'outcome' | 'reason' | 'uploaded' | 'uploadedBytes' | 'downloaded' | 'downloadedBytes'
>;

/** A request the server failed rather than refused, logged with its error. */
export interface Failure {
  err: unknown;
  level: 'warn' | 'error';
}

interface OpenSync {
  /** When its first request came, and its last was answered. */
  started: number;
  last?: number;
  requests: number;
  up: number;
  upBytes: number;
  down: number;
  downBytes: number;
  timer?: NodeJS.Timeout;
}

/**
 * The server's log as an operator reads it, like mosquitto's: one line per
 * connection, sync, refusal and disconnection, saying who, what, how many
 * records and why refused. Secrets never appear (no password, credential or
 * code, nor a username that did not parse: it may be a password typed in the
 * wrong field), and subscriber IDs only shortened.
 */
export class ServerLog {
  private readonly syncs = new Map<Session, OpenSync>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** "New client connected from 10.0.0.5 as t:123 (subscriber 00101…)." */
  connected(session: Session, from: string): void {
    const subscriber = shortSubscriber(session.subscriber);
    this.logger.info(
      { event: 'connect', terminalId: session.terminalId, channel: session.channel, from, subscriber },
      `New client connected from ${from} as ${nameOf(session)} (subscriber ${subscriber})`,
    );
  }

  /** "Client t:123 disconnected.", after the line of the sync it leaves open. */
  disconnected(session: Session): void {
    this.endSync(session);
    this.logger.info(
      { event: 'disconnect', terminalId: session.terminalId, channel: session.channel },
      `Client ${nameOf(session)} disconnected.`,
    );
  }

  /**
   * "refused t:123 from 10.0.0.5: unknown terminal or wrong credential". `who`
   * is undefined for a username that did not parse; `err` (level error) for a
   * check that failed rather than said no.
   */
  refusedConnect(
    who: { channel: Channel; terminalId: string } | undefined,
    from: string,
    reason: string,
    returnCode: number,
    err?: unknown,
  ): void {
    const fields = {
      event: 'refused',
      action: 'connect',
      terminalId: who?.terminalId,
      from,
      reason,
      returnCode,
    };
    const line = `refused ${who ? nameOf(who) : 'a malformed username'} from ${from}: ${reason}`;
    if (err === undefined) this.logger.info(fields, line);
    else this.logger.error({ ...fields, err }, line);
  }

  /** "refused t:123: subscribe to ss/1/t/456/down" (the topic ACL; the client may be unauthenticated). */
  refusedTopic(
    session: Session | undefined,
    what: 'subscribe to' | 'publish to' | 'publish retained to',
    topic: string,
  ): void {
    const name = session ? nameOf(session) : 'an unauthenticated client';
    this.logger.warn(
      {
        event: 'refused',
        action: what.split(' ')[0],
        terminalId: session?.terminalId,
        topic: topic.slice(0, 200),
      },
      `refused ${name}: ${what} ${topic.slice(0, 200)}`,
    );
  }

  /**
   * One request answered, received at `receivedAt`: a refusal gets its line
   * ("refused t:123 upload: revoked: this terminal was revoked"; `failure`
   * when the server failed it rather than said no). An accepted upload,
   * part, download or fetch joins its terminal's sync, opening one if none
   * is; a probe or a category change joins only an open one.
   */
  served(
    session: Session,
    action: string,
    line: Counted | null,
    receivedAt: number,
    failure?: Failure,
  ): void {
    if (line?.outcome === 'refused') {
      const fields = { event: 'refused', action, terminalId: session.terminalId, reason: line.reason };
      const text = `refused ${nameOf(session)} ${action}: ${line.reason ?? 'no reason given'}`;
      if (failure) this.logger[failure.level]({ ...fields, err: failure.err }, text);
      else this.logger.info(fields, text);
      return;
    }
    const open = this.syncs.get(session);
    if (session.channel !== 't' || (!open && !SYNC_ACTIONS.has(action))) return;
    const sync = open ?? { started: receivedAt, requests: 0, up: 0, upBytes: 0, down: 0, downBytes: 0 };
    sync.requests++;
    sync.up += line?.uploaded ?? 0;
    sync.upBytes += line?.uploadedBytes ?? 0;
    sync.down += line?.downloaded ?? 0;
    sync.downBytes += line?.downloadedBytes ?? 0;
    sync.last = this.now();
    if (sync.timer) clearTimeout(sync.timer);
    sync.timer = setTimeout(() => this.endSync(session), SYNC_QUIET_MS);
    sync.timer.unref();
    this.syncs.set(session, sync);
  }

  /** Writes the line of every sync still open (the server closing). */
  close(): void {
    for (const session of [...this.syncs.keys()]) this.endSync(session);
  }

  /** "sync t:123: up 3, down 10, 42 ms" */
  private endSync(session: Session): void {
    const sync = this.syncs.get(session);
    if (!sync) return;
    clearTimeout(sync.timer);
    this.syncs.delete(session);
    const ms = (sync.last ?? sync.started) - sync.started;
    this.logger.info(
      {
        event: 'sync',
        terminalId: session.terminalId,
        requests: sync.requests,
        up: sync.up,
        upBytes: sync.upBytes,
        down: sync.down,
        downBytes: sync.downBytes,
        ms,
      },
      `sync ${nameOf(session)}: up ${sync.up}, down ${sync.down}, ${ms} ms`,
    );
  }
}
