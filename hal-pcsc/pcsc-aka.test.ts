import { describe, expect, it } from 'vitest';
import { AKA_KEYS as KEYS, AKA_NETWORK as NETWORK } from '../test/support/aka-keys.js';
import { kindOf } from '../test/support/hal-error-kind.js';
import { AKA_SCENARIO_PASSED, akaScenario, challengeWithOtherKey } from '../uicc/aka-scenario.js';
import { fromHex } from '../uicc/index.js';
import { rigPerTest } from './vpcd-test-rig.js';

const rig = rigPerTest();

describe('PcscCardReader: USIM AKA (TS 33.102 §6.3) through pcscd + vsmartcard-vpcd', () => {
  it.each([
    ['data returned at once', {}],
    ['data behind 61xx (T=0 GET RESPONSE)', { t0GetResponse: true }],
  ])(
    '%s: RES = XRES, CK/IK match; a replay is a sync failure whose AUTS resyncs the network',
    async (_n, mode) => {
      const sim = await rig().open({ ...KEYS, ...mode });
      expect(sim.application).toBe('usim');
      expect(await sim.verifyPin('1234')).toEqual({ status: 'ok' });
      expect(await akaScenario(sim, NETWORK)).toEqual(AKA_SCENARIO_PASSED);
    },
  );

  it('a card with another K answers mac-failure (SW 9862 through pcscd)', async () => {
    const sim = await rig().open({ ...KEYS, k: '00112233445566778899aabbccddeeff' });
    await sim.verifyPin('1234');
    expect(await challengeWithOtherKey(sim, NETWORK)).toBe('mac-failure');
  });

  it("'pin-required' before PIN1; a 2G SIM runs RUN GSM ALGORITHM and refuses AUTHENTICATE", async () => {
    const usim = await rig().open(KEYS);
    expect(await kindOf(usim.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('pin-required');
    await rig().reset();
    const sim = await rig().open({ ...KEYS, classes: 'sim-only' });
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
