import { SubscriberId } from '../core/protocol/index.js';
import { opcOf } from '../uicc/aka/index.js';
import { AuthenticationCentre } from './aka-auc.js';
import type { AkaVault } from './aka-vault.js';
import type { Logger } from './logger.js';
import { shortSubscriber } from './server-log.js';
import type { SyncStore } from './store/sync-store.js';

/** The card key of a programmable SIM, as its vendor's sheet gives it (hex). OPc, or OP to derive it. */
export interface AkaKeyInput {
  subscriber: string;
  /** K (Ki), 32 hex digits. */
  k: string;
  /** OPc, 32 hex digits; or `op`, from which OPc = E_K(OP) ⊕ OP (TS 35.206 §4.1). */
  opc?: string;
  op?: string;
  /** The SQN to start from (the card's, when known); default 0. */
  sqn?: number;
}

export type AkaAdminErrorKind = 'invalid' | 'unknown-subscriber' | 'no-keyring';

export class AkaAdminError extends Error {
  override readonly name = 'AkaAdminError';
  constructor(
    readonly kind: AkaAdminErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const HEX16 = /^[0-9a-fA-F]{32}$/;

/**
 * The operator's operations on AKA keys: set (sealed at once; the clear key
 * goes nowhere else, not even the log), remove, and re-seal every key under
 * the keyring's current server key (rotation).
 */
export function createAkaAdmin(deps: {
  store: SyncStore;
  vault: AkaVault | undefined;
  logger: Logger;
  now: () => number;
}) {
  const { store, logger, now } = deps;
  const vault = (): AkaVault => {
    if (deps.vault === undefined) {
      throw new AkaAdminError(
        'no-keyring',
        'AKA keys need a server key file: give --aka-key-file (see `admin aka-keygen`)',
      );
    }
    return deps.vault;
  };

  /** The checks of setAkaKey that need no store: refused before anything is written. */
  function check(input: AkaKeyInput): void {
    if (!SubscriberId.safeParse(input.subscriber).success)
      throw new AkaAdminError('invalid', 'subscriber ID must be 5–15 digits');
    if (!HEX16.test(input.k)) throw new AkaAdminError('invalid', 'K must be 32 hex digits');
    if ((input.opc === undefined) === (input.op === undefined))
      throw new AkaAdminError('invalid', 'give exactly one of OPc and OP');
    if (!HEX16.test((input.opc ?? input.op) as string))
      throw new AkaAdminError('invalid', `${input.opc ? 'OPc' : 'OP'} must be 32 hex digits`);
    vault();
  }

  return {
    async checkAkaKey(input: AkaKeyInput): Promise<void> {
      check(input);
    },

    async hasAkaKey(subscriber: string): Promise<boolean> {
      return (await store.getAka(subscriber)) !== undefined;
    },

    async setAkaKey(input: AkaKeyInput): Promise<void> {
      check(input);
      if (!SubscriberId.safeParse(input.subscriber).success)
        throw new AkaAdminError('invalid', 'subscriber ID must be 5–15 digits');
      if (!HEX16.test(input.k)) throw new AkaAdminError('invalid', 'K must be 32 hex digits');
      if ((input.opc === undefined) === (input.op === undefined))
        throw new AkaAdminError('invalid', 'give exactly one of OPc and OP');
      const given = (input.opc ?? input.op) as string;
      if (!HEX16.test(given))
        throw new AkaAdminError('invalid', `${input.opc ? 'OPc' : 'OP'} must be 32 hex digits`);
      const sqn = input.sqn ?? 0;
      if (!Number.isSafeInteger(sqn) || sqn < 0 || sqn >= 2 ** 48)
        throw new AkaAdminError('invalid', 'SQN must be a whole number below 2^48');
      if ((await store.getSubscriber(input.subscriber)) === undefined)
        throw new AkaAdminError('unknown-subscriber', `no subscriber ${input.subscriber}`);
      const k = fromHex(input.k);
      const opc = input.opc !== undefined ? fromHex(input.opc) : opcOf(k, fromHex(given));
      await new AuthenticationCentre(store, vault(), now).setKey(input.subscriber, k, opc, sqn);
      k.fill(0);
      opc.fill(0);
      logger.info({ subscriber: shortSubscriber(input.subscriber) }, 'AKA key saved (sealed)');
    },

    async removeAkaKey(subscriber: string): Promise<boolean> {
      const had = (await store.getAka(subscriber)) !== undefined;
      await store.transaction((tx) => tx.deleteAka(subscriber));
      return had;
    },

    /** Re-seals every key not under the current server key; resolves how many were. */
    async rotateAkaKeys(): Promise<number> {
      const v = vault();
      let moved = 0;
      for (const row of await store.listAka()) {
        if (row.keyId === v.currentKeyId) continue;
        await store.transaction(async (tx) => {
          const now = await tx.getAka(row.subscriber);
          if (now === undefined || now.keyId === v.currentKeyId) return;
          const key = v.open(now.subscriber, now.keyId, now.sealed);
          await tx.putAka({ ...now, ...v.seal(now.subscriber, key) });
          key.k.fill(0);
          key.opc.fill(0);
          moved++;
        });
      }
      logger.info({ resealed: moved, keyId: v.currentKeyId }, 'AKA keys re-sealed');
      return moved;
    },
  };
}

export type AkaAdmin = ReturnType<typeof createAkaAdmin>;

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
