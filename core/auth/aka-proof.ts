import { HalError, type SimCard } from '../../hal/index.js';
import { SyncError } from '../errors.js';
import { expectReply } from '../net/expect-reply.js';
import type { ServerSession } from '../net/server-session.js';

/** What the server said about this subscriber's card: it holds an AKA key for it, or none. */
export type AkaOutcome = 'proven' | 'not-required';

/**
 * TS 33.102 §6.3 seen from the terminal: asks the server for a fresh
 * challenge, has the card in the reader answer it (AUTHENTICATE, through
 * whatever reader: PC/SC, a modem's AT+CSIM, the simulated one), and sends
 * the answer back. The terminal computes nothing: only the card holds K.
 *
 * - RES: the server compares it with its XRES; from then on the connection
 *   is served.
 * - AUTS (the card found the SQN stale, §6.3.5): sent, the server moves its
 *   SQN and answers with a new challenge, which the card answers in turn.
 * - MAC failure (§6.3.3): the card does not take the server for its home
 *   network; nothing is sent and the sync is refused 'aka-network'.
 */
export async function proveCard(
  session: ServerSession,
  card: SimCard,
  subscriber: string,
): Promise<AkaOutcome> {
  let challenge = expectReply(await session.request({ type: 'aka-challenge', subscriber }), 'aka-challenge');
  // One resynchronisation at most: a second AUTS in a row means the two sides cannot agree.
  for (let round = 0; round < 2; round++) {
    if (challenge.rand === undefined || challenge.autn === undefined) return 'not-required';
    const answer = await authenticate(card, challenge.rand, challenge.autn);
    if (answer.status === 'mac-failure') {
      throw new SyncError(
        'auth-refused',
        "the SIM does not recognise the server's challenge: this server does not hold the SIM's key",
        'aka-network',
      );
    }
    if (answer.status === 'ok') {
      expectReply(await session.request({ type: 'aka-response', subscriber, res: answer.res }), 'ok');
      return 'proven';
    }
    const next = await session.request({ type: 'aka-response', subscriber, auts: answer.auts });
    challenge = expectReply(next, 'aka-challenge');
  }
  throw new SyncError('protocol', "the SIM refused the server's sequence number again after resynchronising");
}

async function authenticate(card: SimCard, rand: Uint8Array, autn: Uint8Array) {
  try {
    return await card.authenticate(rand, autn);
  } catch (e) {
    // 'not-supported': a 2G SIM, or a reader passing no APDUs; 6D00: a USIM without the algorithm.
    if (
      e instanceof HalError &&
      (e.kind === 'not-supported' || (e.kind === 'card-error' && e.sw === 0x6d00))
    ) {
      throw new SyncError(
        'auth-refused',
        'the server asks the SIM to authenticate, and this SIM or reader cannot (a 2G SIM, or a modem without AT+CSIM)',
        'aka-unsupported',
        { cause: e },
      );
    }
    throw e;
  }
}
