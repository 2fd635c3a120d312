import { randomBytes } from 'node:crypto';
import {
  AucSqn,
  generateVector,
  IND_COUNT,
  indOf,
  Milenage,
  resyncFromAuts,
  seqOf,
  sqnOf,
} from '../uicc/aka/index.js';
import type { AkaVault } from './aka-vault.js';
import type { SyncStore } from './store/sync-store.js';

/**
 * The server's authentication centre for subscribers with an AKA key
 * (TS 33.102 §6.3, Milenage TS 35.206): one fresh challenge per sync session,
 * its expected RES kept only in memory for that connection, the SQN stepped
 * in the store before the challenge leaves (so a crash can never issue the
 * same SQN twice), and re-synchronised from the card's AUTS (§6.3.5).
 *
 * SQN = SEQ ‖ IND, 43 + 5 bits (Annex C.1): each challenge takes the next
 * SEQ and the next IND in turn (uicc/aka/sqn.ts AucSqn), so a card's array of
 * 32 SQN_MS (Annex C.2) accepts it, and a challenge replayed to the card
 * finds its SQN used. The row keeps the last SQN issued.
 */

/** One challenge: what goes to the card, and what the server keeps to check its answer. */
export interface Challenge {
  rand: Uint8Array;
  autn: Uint8Array;
  xres: Uint8Array;
  sqn: number;
}

export type ResyncOutcome = { ok: true; sqnMs: number } | { ok: false; why: 'mac-s' | 'no-key' };

export class AuthenticationCentre {
  constructor(
    private readonly store: SyncStore,
    private readonly vault: AkaVault | undefined,
    private readonly now: () => number,
  ) {}

  /** Whether the subscriber's card must prove itself: it has an AKA key on this server. */
  async required(subscriber: string): Promise<boolean> {
    return (await this.store.getAka(subscriber)) !== undefined;
  }

  /**
   * A fresh challenge for the subscriber's card, or undefined when the
   * subscriber has no AKA key. The new SQN is stored before the challenge is
   * returned.
   */
  async challenge(subscriber: string): Promise<Challenge | undefined> {
    return this.store.transaction(async (tx) => {
      const row = await tx.getAka(subscriber);
      if (row === undefined) return undefined;
      const milenage = this.milenage(subscriber, row.keyId, row.sealed);
      const sqn = counterAfter(row.sqn).next();
      await tx.putAka({ ...row, sqn });
      const { rand, autn, xres } = generateVector(milenage, Uint8Array.from(randomBytes(16)), sqn);
      return { rand, autn, xres, sqn };
    });
  }

  /**
   * §6.3.5: the card refused the SQN of the challenge with `rand` and sent
   * AUTS = SQN_MS ⊕ AK* ‖ MAC-S. A MAC-S that checks moves the server's SQN
   * to the card's (Annex C.3.4: SEQ_HE = SEQ_MS), so the next challenge is
   * fresh to it; one that does not changes nothing.
   */
  async resync(subscriber: string, rand: Uint8Array, auts: Uint8Array): Promise<ResyncOutcome> {
    return this.store.transaction(async (tx) => {
      const row = await tx.getAka(subscriber);
      if (row === undefined) return { ok: false, why: 'no-key' } as const;
      const milenage = this.milenage(subscriber, row.keyId, row.sealed);
      const outcome = resyncFromAuts(milenage, rand, auts);
      if (outcome.status !== 'ok') return { ok: false, why: 'mac-s' } as const;
      const { sqnMs } = outcome;
      const counter = counterAfter(row.sqn);
      counter.resync(sqnMs);
      const { seq, ind } = counter.state();
      // The last SQN issued, as the row keeps it: the next one is then fresh to the card.
      const last = sqnOf(seq, (ind + IND_COUNT - 1) % IND_COUNT);
      if (last !== row.sqn) await tx.putAka({ ...row, sqn: last });
      return { ok: true, sqnMs } as const;
    });
  }

  /** Sets (or replaces) a subscriber's card key, sealed; the SQN starts where the card's does, or 0. */
  async setKey(subscriber: string, k: Uint8Array, opc: Uint8Array, sqn = 0): Promise<void> {
    const vault = this.requireVault();
    const { keyId, sealed } = vault.seal(subscriber, { k, opc });
    await this.store.transaction((tx) =>
      tx.putAka({ subscriber, keyId, sealed, sqn, createdAt: this.now() }),
    );
  }

  private milenage(subscriber: string, keyId: string, sealed: Uint8Array): Milenage {
    const { k, opc } = this.requireVault().open(subscriber, keyId, sealed);
    return new Milenage(k, opc);
  }

  private requireVault(): AkaVault {
    if (this.vault === undefined)
      throw new Error('no AKA key file is configured on this server (--aka-key-file)');
    return this.vault;
  }
}

/** The HE counter (Annex C.1) after `last`, the last SQN issued: SEQ_HE, and the IND after its. */
function counterAfter(last: number): AucSqn {
  return new AucSqn({ seq: seqOf(last), ind: (indOf(last) + 1) % IND_COUNT });
}
