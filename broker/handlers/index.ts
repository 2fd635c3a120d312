import { decodeRequest, ProtocolError, type Request, unwrap } from '../../core/protocol/index.js';
import { nodeDeflate } from '../node-deflate.js';
import { budgetKey, budgetOf } from '../request-budget.js';
import type { Failure } from '../server-log.js';
import type { Session } from '../sessions.js';
import { checkPair } from '../sync/pair.js';
import { akaGate, handleAkaChallenge, handleAkaResponse } from './aka.js';
import { handleDownload } from './download.js';
import { handleFetch } from './fetch.js';
import { type Handled, type RequestDeps, refuse, type Who } from './handled.js';
import { handleProbe } from './probe.js';
import { handleRegister } from './register.js';
import { handleSetCategories } from './set-categories.js';
import { handleUpload } from './upload.js';
import { handleUploadPart } from './upload-part.js';

export type { RequestDeps } from './handled.js';

/** A store error that says so (SyncStore: `retryable`): the request changed nothing and may be sent again. */
function isRetryable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === true;
}

/**
 * Serves the requests terminals publish on their `up` topics: decoded and
 * validated at this edge (STYLE.md §9), handled one at a time per terminal
 * and channel, answered on the matching `down` topic. A message that cannot
 * be served gets an `error` reply and changes nothing. Like Aedes'
 * `lib/handlers/index.js`, this only guards and routes: each request type has
 * its own handler beside it, and every answer is audited here before it goes out.
 */
export class RequestRouter {
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly deps: RequestDeps) {}

  /** Queues one payload; resolves when it has been handled and answered. */
  enqueue(session: Session, payload: Uint8Array, end: () => void = () => {}): Promise<void> {
    const key = `${session.channel}:${session.terminalId}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(() => this.serve(session, payload, end));
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

  private async serve(session: Session, payload: Uint8Array, end: () => void): Promise<void> {
    const { logger, now } = this.deps;
    const receivedAt = now();
    const topic = session.replyTopic;
    if (topic === null) {
      // A reg connection must bind its own reply topic first; nothing is done for one that did not.
      logger.warn({ terminalId: session.terminalId }, 'request on reg before subscribing a reply topic');
      return;
    }
    let handled: Handled;
    let req: number | null = null;
    let action = 'request';
    let failure: Failure | undefined;
    try {
      const request = await this.decode(session, payload);
      if ('reply' in request) {
        handled = request;
      } else {
        req = request.req;
        action = request.type;
        handled = await this.route(session, request);
      }
    } catch (e) {
      const who = { subscriber: session.subscriber };
      if (isRetryable(e)) {
        // The store is away (a PostgreSQL restart): nothing was applied; the same request may succeed later.
        failure = { err: e, level: 'warn' };
        handled = refuse(req, 'unavailable', 'the sync store is unavailable: retry later', who);
      } else {
        failure = { err: e, level: 'error' };
        handled = refuse(req, 'internal', 'the server failed to handle this request', who);
      }
    }
    // Audited before the reply goes out, so whoever sees the reply finds it in the history.
    if (handled.audit && !handled.audited) {
      await this.deps.store
        .appendAudit({ ...handled.audit, at: now(), terminalId: session.terminalId })
        .catch((e: unknown) => logger.error({ err: e, terminalId: session.terminalId }, 'audit failed'));
    }
    this.deps.log.served(session, action, handled.audit, receivedAt, failure);
    await this.deps
      .publish(topic, handled.reply, session.compress === true)
      .catch((e: unknown) => logger.error({ err: e, terminalId: session.terminalId }, 'reply failed'));
    if (handled.endSession) end();
  }

  /** Validation at the edge (STYLE.md §9): a request, or the refusal of a payload that is none. */
  private async decode(session: Session, payload: Uint8Array): Promise<Request | Handled> {
    const { maxMessageBytes } = this.deps.limits;
    try {
      const { cbor, acceptsCompressed } = await unwrap(payload, maxMessageBytes, nodeDeflate);
      if (acceptsCompressed) session.compress = true;
      return decodeRequest(cbor, maxMessageBytes);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Charged to the terminal, held back once it has sent too much of it (request-budget.ts): what
      // it cost to refuse, so a payload refused for its size, read no further than the limit, counts
      // as one at the limit.
      budgetOf(this.deps.sessions, maxMessageBytes).charge(
        budgetKey(session),
        Math.min(payload.length, maxMessageBytes),
      );
      return refuse(e.req, e.kind, e.message, { subscriber: session.subscriber });
    }
  }

  /** The guards (channel, then FIG. 14 S62 registered pair), then the request's own handler. */
  private async route(session: Session, request: Request): Promise<Handled> {
    const { deps } = this;
    if (request.type === 'register') {
      if (session.channel === 'reg') return handleRegister(deps, session, request);
      return refuse(request.req, 'malformed', 'register requests go on the reg channel', {
        action: 'register',
      });
    }
    const wrongChannel = session.channel !== 't';
    const terminal = wrongChannel ? undefined : await deps.store.getTerminal(session.terminalId);
    const who: Who = {
      action: request.type === 'aka-challenge' || request.type === 'aka-response' ? 'aka' : request.type,
      subscriber: request.subscriber,
      terminalOwner: terminal && terminal.subscriber !== request.subscriber ? terminal.subscriber : null,
    };
    if (wrongChannel) {
      const message = 'sync requests go on the t channel, after registration';
      return refuse(request.req, 'not-registered', message, {
        action: who.action,
        subscriber: who.subscriber,
      });
    }
    const refusal = checkPair(terminal, request.subscriber);
    if (refusal || !terminal) {
      const message =
        refusal === 'revoked'
          ? 'this terminal was revoked'
          : 'subscriber and terminal are not a registered pair';
      return refuse(request.req, refusal ?? 'not-registered', message, who);
    }
    const call = { deps, session, terminal, who };
    if (request.type === 'aka-challenge') return handleAkaChallenge(call, request);
    if (request.type === 'aka-response') return handleAkaResponse(call, request);
    const unproven = await akaGate(call, request);
    if (unproven) return unproven;
    switch (request.type) {
      case 'upload':
        return handleUpload(call, request);
      case 'upload-part':
        return handleUploadPart(call, request);
      case 'download':
        return handleDownload(call, request);
      case 'probe':
        return handleProbe(call, request);
      case 'fetch':
        return handleFetch(call, request);
      case 'set-categories':
        return handleSetCategories(call, request);
    }
  }
}
