import {
  type Category,
  decodeRequest,
  downTopic,
  type ErrorCode,
  type Filters,
  normaliseSelection,
  ProtocolError,
  type Reply,
  type Request,
} from '../core/protocol/index.js';
import type { Logger } from './logger.js';
import { budgetKey, budgetOf } from './request-budget.js';
import type { Session, Sessions } from './sessions.js';
import type { AuditEntry, SyncStore } from './store/sync-store.js';
import { downloadPage, probe } from './sync/download.js';
import { fetchSubstance } from './sync/fetch.js';
import { checkPair } from './sync/pair.js';
import { registerTerminal } from './sync/register.js';
import { uploadPart } from './sync/staging.js';
import { applyUpload, type UploadLimits } from './sync/upload.js';

export interface RequestDeps {
  store: SyncStore;
  sessions: Sessions;
  logger: Logger;
  now: () => number;
  limits: UploadLimits & { maxMessageBytes: number };
  /** Publishes a reply or notice on a down topic, QoS 1. */
  publish: (topic: string, reply: Reply) => Promise<void>;
  /** One of several broker processes: a terminal online elsewhere is not in `sessions`. */
  clustered?: boolean;
}

/** A store error that says so (SyncStore: `retryable`): the request changed nothing and may be sent again. */
function isRetryable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === true;
}

/** What one request did, for its reply and its audit line. */
interface Handled {
  reply: Reply;
  audit: Omit<AuditEntry, 'at' | 'terminalId'> | null;
}

function tally(over: Partial<AuditEntry>): Omit<AuditEntry, 'at' | 'terminalId'> {
  return {
    subscriber: null,
    terminalOwner: null,
    action: 'request',
    outcome: 'accepted',
    reason: null,
    uploaded: 0,
    uploadedBytes: 0,
    downloaded: 0,
    downloadedBytes: 0,
    ...over,
  };
}

function refuse(req: number | null, code: ErrorCode, message: string, audit: Partial<AuditEntry>): Handled {
  return {
    reply: { type: 'error', req, code, message: message.slice(0, 500) },
    audit: tally({ ...audit, outcome: 'refused', reason: code === message ? code : `${code}: ${message}` }),
  };
}

/**
 * Serves the requests terminals publish on their `up` topics: decoded and
 * validated at this edge (STYLE.md §9), handled one at a time per terminal
 * and channel, answered on the matching `down` topic. A message that cannot
 * be served gets an `error` reply and changes nothing.
 */
export class RequestRouter {
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly deps: RequestDeps) {}

  /** Queues one payload; resolves when it has been handled and answered. */
  enqueue(session: Session, payload: Uint8Array): Promise<void> {
    const key = `${session.channel}:${session.terminalId}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(() => this.serve(session, payload));
    this.queues.set(key, run);
    void run.finally(() => {
      if (this.queues.get(key) === run) this.queues.delete(key);
    });
    return run;
  }

  /** Resolves when every queued request has been handled. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  private async serve(session: Session, payload: Uint8Array): Promise<void> {
    const { logger, now } = this.deps;
    const topic = session.replyTopic;
    if (topic === null) {
      // A reg connection must bind its own reply topic first; nothing is done for one that did not.
      logger.warn({ terminalId: session.terminalId }, 'request on reg before subscribing a reply topic');
      return;
    }
    let handled: Handled;
    let req: number | null = null;
    try {
      const request = this.decode(session, payload);
      if ('reply' in request) {
        handled = request;
      } else {
        req = request.req;
        handled = await this.handle(session, request);
      }
    } catch (e) {
      const who = { subscriber: session.subscriber };
      if (isRetryable(e)) {
        // The store is away (a PostgreSQL restart): nothing was applied; the same request may succeed later.
        logger.warn({ err: e, terminalId: session.terminalId }, 'request failed: store unavailable');
        handled = refuse(req, 'unavailable', 'the sync store is unavailable: retry later', who);
      } else {
        logger.error({ err: e, terminalId: session.terminalId }, 'request failed');
        handled = refuse(req, 'internal', 'the server failed to handle this request', who);
      }
    }
    // Audited before the reply goes out, so whoever sees the reply finds it in the history.
    if (handled.audit) {
      await this.deps.store
        .appendAudit({ ...handled.audit, at: now(), terminalId: session.terminalId })
        .catch((e: unknown) => logger.error({ err: e, terminalId: session.terminalId }, 'audit failed'));
    }
    await this.deps
      .publish(topic, handled.reply)
      .catch((e: unknown) => logger.error({ err: e, terminalId: session.terminalId }, 'reply failed'));
  }

  /** Validation at the edge (STYLE.md §9): a request, or the refusal of a payload that is none. */
  private decode(session: Session, payload: Uint8Array): Request | Handled {
    const { maxMessageBytes } = this.deps.limits;
    try {
      return decodeRequest(payload, maxMessageBytes);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Charged to the terminal, held back once it has sent too much of it (request-budget.ts).
      budgetOf(this.deps.sessions, maxMessageBytes).charge(budgetKey(session), payload.length);
      return refuse(e.req, e.kind, e.message, { subscriber: session.subscriber });
    }
  }

  private async handle(session: Session, request: Request): Promise<Handled> {
    if (request.type === 'register') {
      if (session.channel !== 'reg') {
        return refuse(request.req, 'malformed', 'register requests go on the reg channel', {
          action: 'register',
        });
      }
      return this.register(session, request);
    }
    if (session.channel !== 't') {
      return refuse(request.req, 'not-registered', 'sync requests go on the t channel, after registration', {
        action: request.type,
        subscriber: request.subscriber,
      });
    }
    return this.sync(session, request);
  }

  private async register(
    session: Session,
    request: Extract<Request, { type: 'register' }>,
  ): Promise<Handled> {
    const who = { action: 'register' as const, subscriber: request.subscriber };
    if (request.subscriber !== session.subscriber || !session.secret) {
      return refuse(request.req, 'bad-secret', 'the secret given at CONNECT is for another subscriber', who);
    }
    const outcome = await registerTerminal(
      this.deps.store,
      session.terminalId,
      session.secret,
      request,
      this.deps.now(),
    );
    if (outcome.kind === 'refused') return refuse(request.req, outcome.code, outcome.reason, who);
    // The old credential is void: close connections still using it.
    this.deps.sessions.kick(session.terminalId, 't');
    return {
      reply: {
        type: 'registered',
        req: request.req,
        credential: outcome.credential,
        categories: outcome.categories,
      },
      audit: tally(who),
    };
  }

  private async sync(session: Session, request: Exclude<Request, { type: 'register' }>): Promise<Handled> {
    const { store, now } = this.deps;
    const terminal = await store.getTerminal(session.terminalId);
    const who = {
      action: request.type,
      subscriber: request.subscriber,
      terminalOwner: terminal && terminal.subscriber !== request.subscriber ? terminal.subscriber : null,
    };
    const refusal = checkPair(terminal, request.subscriber);
    if (refusal || !terminal) {
      const message =
        refusal === 'revoked'
          ? 'this terminal was revoked'
          : 'subscriber and terminal are not a registered pair';
      return refuse(request.req, refusal ?? 'not-registered', message, who);
    }

    switch (request.type) {
      case 'upload': {
        // An applied batch is audited in its own transaction, before the reply goes out.
        const audit = (counts: Pick<AuditEntry, 'uploaded' | 'uploadedBytes'>): AuditEntry => ({
          ...tally({ ...who, ...counts }),
          at: now(),
          terminalId: session.terminalId,
        });
        const outcome = await applyUpload(store, session.terminalId, request, now(), this.deps.limits, audit);
        if (outcome.kind === 'refused') return refuse(request.req, outcome.refusal, outcome.refusal, who);
        if (outcome.kind === 'out-of-order') {
          return refuse(
            request.req,
            'out-of-order',
            `batch ${request.batch} is older than ${outcome.lastBatch}`,
            who,
          );
        }
        if (outcome.kind === 'too-large') {
          const message = `its acknowledgement (${outcome.ackBytes} bytes) would not fit in a message: send fewer changes per batch`;
          return refuse(request.req, 'too-large', message, who);
        }
        if (outcome.kind === 'replayed')
          return { reply: outcome.ack, audit: tally({ ...who, reason: 'retry' }) };
        await this.notify(request.subscriber, session.terminalId, outcome.changed, outcome.latest);
        return { reply: outcome.ack, audit: null };
      }
      case 'download': {
        const wanted = request.categories;
        const page = await downloadPage(store, {
          subscriber: request.subscriber,
          categories: wanted ? terminal.categories.filter((c) => wanted.includes(c)) : terminal.categories,
          filters: terminal.filters,
          after: request.after,
          upTo: request.upTo,
          maxBytes: request.maxBytes,
          strict: request.strict,
          stubs: request.stubs,
          maxMessageBytes: this.deps.limits.maxMessageBytes - 1024,
          now: now(),
        });
        if (page.kind === 'out-of-order') {
          return refuse(
            request.req,
            'out-of-order',
            `anchor ${request.after} is past the latest ${page.latest}`,
            who,
          );
        }
        return {
          reply: {
            type: 'changes',
            req: request.req,
            changes: page.changes,
            next: page.next,
            more: page.more,
          },
          audit: tally({ ...who, downloaded: page.changes.length, downloadedBytes: page.bytes }),
        };
      }
      case 'set-categories': {
        const categories = await this.setCategories(session.terminalId, request.categories, request.filters);
        const filters = request.filters ? { filters: request.filters } : {};
        return { reply: { type: 'ok', req: request.req, categories, ...filters }, audit: tally(who) };
      }
      case 'probe': {
        const wanted = request.category
          ? terminal.categories.filter((c) => c === request.category)
          : terminal.categories;
        const result = await probe(store, {
          subscriber: request.subscriber,
          categories: wanted,
          filters: terminal.filters,
          after: request.after,
          now: now(),
        });
        // Accepted probes are frequent and change nothing: they are not audited.
        return { reply: { type: 'probe-result', req: request.req, ...result }, audit: null };
      }
      case 'fetch': {
        const part = await fetchSubstance(store, terminal, request, this.deps.limits.maxMessageBytes - 1024);
        if (part.kind === 'gone') return refuse(request.req, 'gone', part.reason, who);
        return {
          reply: { type: 'substance', req: request.req, ...part.substance },
          audit: tally({ ...who, downloadedBytes: part.substance.bytes.length }),
        };
      }
      case 'upload-part': {
        const part = await uploadPart(store, session.terminalId, request, now(), this.deps.limits);
        if (part.kind === 'refused') return refuse(request.req, part.code, part.reason, who);
        // A part that only asks how far the server got changes nothing: not audited.
        const audit = part.stored > 0 ? tally({ ...who, uploadedBytes: part.stored }) : null;
        return { reply: { type: 'part-ack', req: request.req, got: part.got }, audit };
      }
    }
  }

  /** FIG. 15 / FIG. 7b: the terminal's categories (and [0033] filters) in the subscriber database. */
  private async setCategories(
    terminalId: string,
    selected: Category[],
    filters: Filters | undefined,
  ): Promise<Category[]> {
    const categories = normaliseSelection(selected);
    await this.deps.store.transaction(async (tx) => {
      const t = await tx.getTerminal(terminalId);
      if (!t) return;
      const { filters: _old, ...rest } = t;
      await tx.putTerminal({ ...rest, categories, ...(filters ? { filters } : {}) });
    });
    return categories;
  }

  /** [0044]: tell the subscriber's other terminals online that the server holds updates for them. */
  private async notify(subscriber: string, from: string, changed: Category[], latest: number): Promise<void> {
    if (changed.length === 0) return;
    const terminals = await this.deps.store.listTerminals(subscriber);
    for (const t of terminals) {
      if (t.terminalId === from || t.revoked) continue;
      // Alone, the server knows who is online; in a cluster the fan-out finds them.
      if (!this.deps.clustered && !this.deps.sessions.isOnline(t.terminalId, 't')) continue;
      const categories = t.categories.filter((c) => changed.includes(c));
      if (categories.length === 0) continue;
      await this.deps.publish(downTopic(t.terminalId, 't'), { type: 'updates', latest, categories });
    }
  }
}
