import { describe, expect, it } from 'vitest';
import { parseApdu } from './apdu.js';
import { isUiccError } from './errors.js';
import { decodeFcp } from './fcp.js';
import { decodeGsmResponse } from './gsm-response.js';
import { decodeIccid } from './iccid.js';
import { decodeImsi } from './imsi.js';
import { directTransport } from './recording-transport.js';
import { UiccSession } from './uicc-session.js';
import { VirtualUicc } from './virtual-uicc.js';

/** mulberry32: a small seeded PRNG, so a failing input can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, max: number): Uint8Array {
  const n = Math.floor(rand() * (max + 1));
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** Commands that look almost right: real CLA/INS, plausible P1/P2, a body of random length. */
function nearMiss(rand: () => number): Uint8Array {
  const head = [
    pick(rand, [0x00, 0x80, 0xa0, 0x01, 0xa0]),
    pick(rand, [0xa4, 0xb0, 0xb2, 0xd6, 0xdc, 0x20, 0x2c, 0xc0, 0xf2, 0x88]),
    pick(rand, [0x00, 0x01, 0x04, 0x08, 0x80, 0xff]),
    pick(rand, [0x00, 0x01, 0x04, 0x0c, 0xff]),
  ];
  const body = randomBytes(rand, 20);
  const lc = pick(rand, [body.length, body.length + 1, Math.max(0, body.length - 1), 0]);
  const tail = rand() < 0.5 ? [Math.floor(rand() * 256)] : [];
  if (rand() < 0.1) return Uint8Array.from(head);
  return Uint8Array.from([...head, lc, ...body, ...tail]);
}

const profile = { iccid: '8988211000000430010', imsi: '001010000000102', terminalIdFile: true };

describe('VirtualUicc never throws and never corrupts state on garbage', () => {
  it('4000 random byte strings (seed 7): a 2-byte-or-longer answer each, EEPROM unchanged', () => {
    const rand = prng(7);
    const card = new VirtualUicc(profile);
    card.powerOn();
    const before = card.snapshot();
    for (let i = 0; i < 4000; i++) {
      const input = randomBytes(rand, 40);
      const out = card.process(input);
      expect(out.length, `input ${i}`).toBeGreaterThanOrEqual(2);
    }
    expect(card.snapshot()).toEqual(before);
  });

  it('4000 near-miss commands (seed 11): files intact, counters in range, a fresh session still works', async () => {
    const rand = prng(11);
    const card = new VirtualUicc(profile);
    card.powerOn();
    const before = card.snapshot();
    for (let i = 0; i < 4000; i++) {
      const out = card.process(nearMiss(rand));
      expect(out.length).toBeGreaterThanOrEqual(2);
      if (i % 500 === 0) card.powerOn();
    }
    const after = card.snapshot();
    // Random PIN/PUK blocks may cost tries; nothing else may change (every write needs PIN1 or ADM).
    const counters = { pinRetriesLeft: 0, pukRetriesLeft: 0, pinVerified: false, powered: true };
    expect({ ...after, ...counters }).toEqual({ ...before, ...counters });
    expect(after.pinRetriesLeft).toBeGreaterThanOrEqual(0);
    expect(after.pinRetriesLeft).toBeLessThanOrEqual(3);
    expect(after.pukRetriesLeft).toBeGreaterThanOrEqual(0);
    const session = await UiccSession.open(directTransport(card), card.powerOn());
    expect(await session.iccid()).toBe(profile.iccid);
  });
});

describe('decoders fail only with UiccError on garbage', () => {
  it('2000 random inputs (seed 3) to each decoder', () => {
    const rand = prng(3);
    const decoders = [parseApdu, decodeFcp, decodeGsmResponse, decodeIccid, decodeImsi];
    for (let i = 0; i < 2000; i++) {
      const input = randomBytes(rand, 40);
      // Half the inputs start with tag 62 so the FCP parser gets past its first check.
      if (i % 2 === 0 && input.length > 2) input[0] = 0x62;
      for (const decode of decoders) {
        try {
          decode(input);
        } catch (e) {
          expect(isUiccError(e), `${decode.name}: ${String(e)}`).toBe(true);
        }
      }
    }
  });
});
