import type { RegisterRequest } from '../../core/protocol/index.js';
import type { Session } from '../sessions.js';
import { registerTerminal } from '../sync/register.js';
import { type Handled, type RequestDeps, refuse, tally } from './handled.js';

/** FIG. 8 S5–S6 / FIG. 19: a reg connection registers its terminal with the secret it proved at CONNECT. */
export async function handleRegister(
  deps: RequestDeps,
  session: Session,
  request: RegisterRequest,
): Promise<Handled> {
  const who = { action: 'register' as const, subscriber: request.subscriber };
  if (request.subscriber !== session.subscriber || !session.secret) {
    return refuse(request.req, 'bad-secret', 'the secret given at CONNECT is for another subscriber', who);
  }
  const outcome = await registerTerminal(deps.store, session.terminalId, session.secret, request, deps.now());
  if (outcome.kind === 'refused') return refuse(request.req, outcome.code, outcome.reason, who);
  // The old credential is void: close connections still using it.
  deps.sessions.kick(session.terminalId, 't');
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
