import type { AkaResult, SimCard } from '../hal/index.js';
import { type AuthVector, generateVector, resMatches } from './aka/challenge.js';
import { gsmKc, gsmSres, type Milenage, macEqual } from './aka/milenage.js';
import { AucSqn, resyncFromAuts } from './aka/sqn.js';

/**
 * USIM AKA drilled through any SimCard, as each card HAL's tests run it (and
 * as one would try a real card whose K and OPc one knows): the network side
 * is aka/ (TS 33.102 §6.3), the card side whatever the reader reaches. It
 * reports what happened rather than asserting, so it needs no test runner.
 * The card's PIN1 must be verified first.
 */

/** What one challenge gave, compared with the vector the network made. */
export interface ChallengeReport {
  status: AkaResult['status'];
  /** RES = XRES, CK and IK equal (only for 'ok'). */
  matches: boolean;
}

/** The run of `akaScenario`, step by step. */
export interface AkaScenarioReport {
  /** A fresh challenge. */
  fresh: ChallengeReport;
  /** The same challenge again: the card refuses the SQN. */
  replay: AkaResult['status'];
  /** The replay's AUTS, checked by the network: SQN_MS equals the SQN the card accepted. */
  autsGivesSqnMs: boolean;
  /** A network whose counter went back (restored from a backup) is refused, then resynchronised by AUTS. */
  staleNetwork: AkaResult['status'];
  afterResync: ChallengeReport;
  /** SRES and Kc equal c2/c3 of the network's f2–f4 for the same RAND. */
  gsmMatches: boolean;
}

/** Deterministic RANDs: tests must be repeatable, and RAND's quality is the network's business. */
function randOf(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (n * 151 + i * 59 + 7) & 0xff);
}

/** Sends one vector to the card and compares the answer with it. */
export async function challenge(
  card: SimCard,
  vector: AuthVector,
): Promise<{ result: AkaResult; report: ChallengeReport }> {
  const result = await card.authenticate(vector.rand, vector.autn);
  const matches =
    result.status === 'ok' &&
    resMatches(vector, result.res) &&
    macEqual(result.ck, vector.ck) &&
    macEqual(result.ik, vector.ik);
  return { result, report: { status: result.status, matches } };
}

/** Runs the drill against `card` with the network knowing the card's key as `network`. */
export async function akaScenario(card: SimCard, network: Milenage): Promise<AkaScenarioReport> {
  const auc = new AucSqn();
  const first = generateVector(network, randOf(1), auc.next());
  const fresh = (await challenge(card, first)).report;

  const replay = await card.authenticate(first.rand, first.autn);
  const resync =
    replay.status === 'sync-failure' ? resyncFromAuts(network, first.rand, replay.auts) : undefined;
  const autsGivesSqnMs = resync?.status === 'ok' && resync.sqnMs === first.sqn;

  const restored = new AucSqn();
  const stale = generateVector(network, randOf(2), restored.next());
  const staleResult = await card.authenticate(stale.rand, stale.autn);
  if (staleResult.status === 'sync-failure') {
    const again = resyncFromAuts(network, stale.rand, staleResult.auts);
    if (again.status === 'ok') restored.resync(again.sqnMs);
  }
  const afterResync = (await challenge(card, generateVector(network, randOf(3), restored.next()))).report;

  const gsmRand = randOf(4);
  const gsm = await card.runGsmAlgorithm(gsmRand);
  const { res, ck, ik } = network.f2345(gsmRand);
  const gsmMatches = macEqual(gsm.sres, gsmSres(res)) && macEqual(gsm.kc, gsmKc(ck, ik));

  return {
    fresh,
    replay: replay.status,
    autsGivesSqnMs,
    staleNetwork: staleResult.status,
    afterResync,
    gsmMatches,
  };
}

/** What `akaScenario` reports on a card that holds the network's K. */
export const AKA_SCENARIO_PASSED: AkaScenarioReport = {
  fresh: { status: 'ok', matches: true },
  replay: 'sync-failure',
  autsGivesSqnMs: true,
  staleNetwork: 'sync-failure',
  afterResync: { status: 'ok', matches: true },
  gsmMatches: true,
};

/** A challenge from `network` to a card with another K: the card answers 'mac-failure'. */
export async function challengeWithOtherKey(card: SimCard, network: Milenage): Promise<AkaResult['status']> {
  const vector = generateVector(network, randOf(5), new AucSqn().next());
  return (await card.authenticate(vector.rand, vector.autn)).status;
}
