import { afterEach, describe, expect, it } from 'vitest';
import { AKA_KEYS as KEYS, AKA_NETWORK as NETWORK } from '../test/support/aka-keys.js';
import { kindOf } from '../test/support/hal-error-kind.js';
import { AKA_SCENARIO_PASSED, akaScenario, challengeWithOtherKey } from '../uicc/aka-scenario.js';
import { fromHex } from '../uicc/index.js';
import { type Bench, bench, CARD, card } from './test-support.js';

let b: Bench;
afterEach(async () => {
  await b?.close();
});

describe('ModemCardReader: USIM AKA (TS 33.102 §6.3) over AT+CSIM', () => {
  for (const dialect of ['quectel', 'simcom', 'generic'] as const) {
    it(`${dialect}: PIN by AT+CPIN, then RES = XRES, CK/IK match, a replay's AUTS resyncs the network`, async () => {
      b = await bench(dialect, { card: card(KEYS) });
      const sim = await b.modem.reader.open();
      expect(await sim.verifyPin(CARD.pin!)).toEqual({ status: 'ok' });
      expect(await akaScenario(sim, NETWORK)).toEqual(AKA_SCENARIO_PASSED);
      // The challenge travelled as an APDU: AT+CSIM=80,"0088008122 10 RAND 10 AUTN 00" (40 bytes).
      expect(b.host.modem.commands().some((c) => /^AT\+CSIM=80,"008800812210/.test(c))).toBe(true);
      await sim.close();
    });
  }

  it('a card with another K answers mac-failure', async () => {
    b = await bench('quectel', { card: card({ ...KEYS, k: '00112233445566778899aabbccddeeff' }) });
    const sim = await b.modem.reader.open();
    await sim.verifyPin(CARD.pin!);
    expect(await challengeWithOtherKey(sim, NETWORK)).toBe('mac-failure');
    await sim.close();
  });

  it("'pin-required' before PIN1; 'not-supported' on a modem without AT+CSIM", async () => {
    b = await bench('generic', { card: card(KEYS) });
    const sim = await b.modem.reader.open();
    expect(await kindOf(sim.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('pin-required');
    await sim.close();
    await b.close();

    b = await bench('generic', { card: card(KEYS), unsupported: ['+CSIM'] });
    const noApdus = await b.modem.reader.open();
    await noApdus.verifyPin(CARD.pin!);
    expect(await kindOf(noApdus.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('not-supported');
    expect(await kindOf(noApdus.runGsmAlgorithm(new Uint8Array(16)))).toBe('not-supported');
    await noApdus.close();
  });

  it('a 2G SIM behind the modem: RUN GSM ALGORITHM through AT+CSIM', async () => {
    b = await bench('simcom', { card: card({ ...KEYS, classes: 'sim-only' }) });
    const sim = await b.modem.reader.open();
    expect(sim.application).toBe('sim');
    await sim.verifyPin(CARD.pin!);
    // TS 55.205 Test Set 1 (hostapd tests/test-milenage.c): SRES 46f8416a, Kc eae4be823af9a08b.
    expect(await sim.runGsmAlgorithm(fromHex('23553cbe9637a89d218ae64dae47bf35'))).toEqual({
      sres: fromHex('46f8416a'),
      kc: fromHex('eae4be823af9a08b'),
    });
    expect(await kindOf(sim.authenticate(new Uint8Array(16), new Uint8Array(16)))).toBe('not-supported');
    await sim.close();
  });
});
