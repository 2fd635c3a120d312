import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHalError } from '../hal/index.js';
import { Milenage } from '../uicc/aka/index.js';
import { AKA_SCENARIO_PASSED, akaScenario, challengeWithOtherKey } from '../uicc/aka-scenario.js';
import { fromHex } from '../uicc/index.js';
import { VpcdRig } from './vpcd-test-rig.js';

/** The card's key: TS 35.208 Test Set 1 (uicc/aka/milenage.test.ts gives the origin). */
const KEYS = { k: '465b5ce8b199b49faa5f0a2ee238a6bc', opc: 'cd63cb71954a9f4e48a5994e37a02baf' };
const NETWORK = new Milenage(fromHex(KEYS.k), fromHex(KEYS.opc));

let rig: VpcdRig;
// Claimed per test, so test files running in parallel take turns on the two readers.
beforeEach(async () => {
  rig = await VpcdRig.start();
});
afterEach(async () => {
  await rig.stop();
});

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (e) {
    return isHalError(e) ? e.kind : `not a HalError: ${String(e)}`;
  }
}

describe('PcscCardReader: USIM AKA (TS 33.102 §6.3) through pcscd + vsmartcard-vpcd', () => {
  it.each([
    ['data returned at once', {}],
    ['data behind 61xx (T=0 GET RESPONSE)', { t0GetResponse: true }],
  ])(
    '%s: RES = XRES, CK/IK match; a replay is a sync failure whose AUTS resyncs the network',
    async (_n, mode) => {
      const sim = await rig.open({ ...KEYS, ...mode });
      expect(sim.application).toBe('usim');
      expect(await sim.verifyPin('1234')).toEqual({ status: 'ok' });
      expect(await akaScenario(sim, NETWORK)).toEqual(AKA_SCENARIO_PASSED);
    },
  );

  it('a card with another K answers mac-failure (SW 9862 through pcscd)', async () => {
    const sim = await rig.open({ ...KEYS, k: '00112233445566778899aabbccddeeff' });
    await sim.verifyPin('1234');
    expect(await challengeWithOtherKey(sim, NETWORK)).toBe('mac-failure');
  });

  it("'pin-required' before PIN1; a 2G SIM runs RUN GSM ALGORITHM and refuses AUTHENTICATE", async () => {
    const usim = await rig.open(KEYS);
    expect(await kindOf(usim.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('pin-required');
    await rig.reset();
    const sim = await rig.open({ ...KEYS, classes: 'sim-only' });
    expect(sim.application).toBe('sim');
    await sim.verifyPin('1234');
    expect(await kindOf(sim.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('not-supported');
    // TS 55.205 Test Set 1 (hostapd tests/test-milenage.c): SRES 46f8416a, Kc eae4be823af9a08b.
    expect(await sim.runGsmAlgorithm(fromHex('23553cbe9637a89d218ae64dae47bf35'))).toEqual({
      sres: fromHex('46f8416a'),
      kc: fromHex('eae4be823af9a08b'),
    });
  });
});
