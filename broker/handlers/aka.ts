import type { AkaChallengeRequest, AkaResponseRequest } from '../../core/protocol/index.js';
import { macEqual } from '../../uicc/aka/index.js';
import type { Session } from '../sessions.js';
import { type Handled, refuse, type SyncCall } from './handled.js';

/** How long the card has to answer a challenge (a PIN prompt may come first on the terminal). */
export const CHALLENGE_TTL_MS = 120_000;

/**
 * The guard of every sync request on `t` (TS 33.102 §6.3 made a policy): a
 * subscriber with an AKA key on this server is served only on a connection
 * where the card answered a fresh challenge. Resolves a refusal, or
 * undefined to go on. The store is asked once per connection.
 */
export async function akaGate(
  { deps, session, who }: SyncCall,
  request: { req: number; subscriber: string },
): Promise<Handled | undefined> {
  const step = session.aka?.step;
  if (step === 'proven' || step === 'not-required') return undefined;
  if (step === undefined && !(await deps.auc.required(request.subscriber))) {
    session.aka = { step: 'not-required' };
    return undefined;
  }
  return refuse(request.req, 'aka-required', "the SIM must answer the server's challenge first", who);
}

/** A fresh challenge (or none, with no RAND, for a subscriber without an AKA key). */
export async function handleAkaChallenge(call: SyncCall, request: AkaChallengeRequest): Promise<Handled> {
  const { deps, session } = call;
  const challenge = await deps.auc.challenge(request.subscriber);
  if (challenge === undefined) {
    session.aka = { step: 'not-required' };
    return { reply: { type: 'aka-challenge', req: request.req }, audit: null };
  }
  session.aka = {
    step: 'challenged',
    rand: challenge.rand,
    xres: challenge.xres,
    expiresAt: deps.now() + CHALLENGE_TTL_MS,
  };
  return {
    reply: { type: 'aka-challenge', req: request.req, rand: challenge.rand, autn: challenge.autn },
    audit: null,
  };
}

/**
 * The card's answer. Each challenge is answered once: RES is compared in
 * constant time with the expected one, which is then gone, so a replayed or
 * guessed second answer finds no challenge. AUTS moves the server's SQN to
 * the card's and a new challenge goes out. Anything wrong ends the
 * connection after the refusal ('aka-failed').
 */
export async function handleAkaResponse(call: SyncCall, request: AkaResponseRequest): Promise<Handled> {
  const { deps, session, who } = call;
  const pending = session.aka;
  const audit = { ...who, action: 'aka' as const };
  if (pending?.step !== 'challenged' || pending.expiresAt < deps.now()) {
    return failed(
      session,
      refuse(request.req, 'aka-failed', 'no challenge of this connection waits for an answer', audit),
    );
  }
  session.aka = { step: 'failed' };
  if (request.auts !== undefined) {
    const resync = await deps.auc.resync(request.subscriber, pending.rand, request.auts);
    if (!resync.ok) {
      return failed(
        session,
        refuse(request.req, 'aka-failed', 'the SIM sent an AUTS that does not check', audit),
      );
    }
    deps.logger.info({ terminalId: session.terminalId }, 'AKA: SQN re-synchronised from the SIM');
    return handleAkaChallenge(call, {
      type: 'aka-challenge',
      req: request.req,
      subscriber: request.subscriber,
    });
  }
  if (request.res === undefined || !macEqual(request.res, pending.xres)) {
    return failed(
      session,
      refuse(request.req, 'aka-failed', "the SIM's answer does not match the challenge", audit),
    );
  }
  session.aka = { step: 'proven' };
  return { reply: { type: 'ok', req: request.req }, audit: null };
}

function failed(session: Session, handled: Handled): Handled {
  session.aka = { step: 'failed' };
  return { ...handled, endSession: true };
}
