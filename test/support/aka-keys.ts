import { Milenage } from '../../uicc/aka/index.js';
import { fromHex } from '../../uicc/index.js';

/** The card's key in the card HALs' AKA tests: TS 35.208 Test Set 1 (uicc/aka/milenage.test.ts gives the origin). */
export const AKA_KEYS = { k: '465b5ce8b199b49faa5f0a2ee238a6bc', opc: 'cd63cb71954a9f4e48a5994e37a02baf' };

/** The network side (TS 33.102 §6.3) knowing AKA_KEYS. */
export const AKA_NETWORK = new Milenage(fromHex(AKA_KEYS.k), fromHex(AKA_KEYS.opc));
