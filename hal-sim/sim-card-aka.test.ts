import { describe, expect, it } from 'vitest';
import { CONTRACT_CARD } from '../test/contracts/card-reader.contract.js';
import { AKA_KEYS as KEYS, AKA_NETWORK as NETWORK } from '../test/support/aka-keys.js';
import { kindOf } from '../test/support/hal-error-kind.js';
import { AKA_SCENARIO_PASSED, akaScenario, challengeWithOtherKey } from '../uicc/aka-scenario.js';
import { fromHex, VirtualUicc, type VirtualUiccProfile } from '../uicc/index.js';
import { SimCardReader } from './sim-card-reader.js';

async function openCard(profile: Partial<VirtualUiccProfile> = {}) {
  const reader = new SimCardReader();
  reader.insert(new VirtualUicc({ ...CONTRACT_CARD, ...KEYS, ...profile }));
  const card = await reader.open();
  return { reader, card };
}

describe('SimCardReader: USIM AKA (TS 33.102 §6.3) through the simulated reader', () => {
  it.each([
    ['T=1-like', {}],
    ['T=0 (61xx + GET RESPONSE)', { t0GetResponse: true }],
    ['usim-only', { classes: 'usim-only' as const }],
  ])(
    '%s: RES = XRES, CK/IK match; a replay is a sync failure whose AUTS resyncs the network',
    async (_n, mode) => {
      const { card } = await openCard(mode);
      expect(await card.verifyPin('1234')).toEqual({ status: 'ok' });
      expect(await akaScenario(card, NETWORK)).toEqual(AKA_SCENARIO_PASSED);
    },
  );

  it('a card with another K answers mac-failure', async () => {
    const { card } = await openCard({ k: '00112233445566778899aabbccddeeff' });
    await card.verifyPin('1234');
    expect(await challengeWithOtherKey(card, NETWORK)).toBe('mac-failure');
  });

  it("rejects 'pin-required' before PIN1 and 'not-supported' for a 15-byte RAND, sending nothing", async () => {
    const { card, reader } = await openCard();
    expect(await kindOf(card.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('pin-required');
    const before = reader.traffic().length;
    expect(await kindOf(card.authenticate(new Uint8Array(15), new Uint8Array(16)))).toBe('not-supported');
    expect(await kindOf(card.runGsmAlgorithm(new Uint8Array(17)))).toBe('not-supported');
    expect(reader.traffic().length).toBe(before);
  });

  it("a 2G SIM: authenticate is 'not-supported', RUN GSM ALGORITHM gives SRES and Kc", async () => {
    const { card } = await openCard({ classes: 'sim-only' });
    expect(card.application).toBe('sim');
    await card.verifyPin('1234');
    expect(await kindOf(card.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('not-supported');
    // TS 55.205 Test Set 1 (hostapd tests/test-milenage.c): SRES 46f8416a, Kc eae4be823af9a08b.
    expect(await card.runGsmAlgorithm(fromHex('23553cbe9637a89d218ae64dae47bf35'))).toEqual({
      sres: fromHex('46f8416a'),
      kc: fromHex('eae4be823af9a08b'),
    });
  });

  it("a card without K: AUTHENTICATE 6D00 is 'card-error' with the SW", async () => {
    const reader = new SimCardReader();
    reader.insert(new VirtualUicc(CONTRACT_CARD));
    const card = await reader.open();
    await card.verifyPin(CONTRACT_CARD.pin ?? '1234');
    await expect(card.authenticate(new Uint8Array(16), new Uint8Array(16))).rejects.toMatchObject({
      kind: 'card-error',
      sw: 0x6d00,
    });
  });

  it("a card pulled before the answer rejects 'card-removed'", async () => {
    const { card, reader } = await openCard();
    await card.verifyPin('1234');
    reader.yankAfterApdus(1);
    expect(await kindOf(card.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('card-removed');
  });
});
