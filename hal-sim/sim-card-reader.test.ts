import { describe, expect, it } from 'vitest';
import { CONTRACT_CARD, describeCardReaderContract } from '../test/contracts/card-reader.contract.js';
import { kindOf } from '../test/support/hal-error-kind.js';
import { readTerminalIds, VirtualUicc, type VirtualUiccProfile, writeTerminalIds } from '../uicc/index.js';
import { SimCardReader } from './sim-card-reader.js';
import { VirtualClock } from './virtual-clock.js';

describeCardReaderContract('SimCardReader with VirtualUicc', async () => {
  const reader = new SimCardReader();
  return {
    reader,
    insert: async (profile) => reader.insert(new VirtualUicc(profile)),
    remove: async () => reader.remove(),
    hang: async () => reader.hang(),
  };
});

const PROFILE: VirtualUiccProfile = CONTRACT_CARD;

describe('SimCardReader', () => {
  it('announces insertion and removal once each; removing an empty reader announces nothing', () => {
    const reader = new SimCardReader();
    const events: string[] = [];
    reader.on('inserted', () => events.push('inserted'));
    const off = reader.on('removed', () => events.push('removed'));
    reader.remove();
    reader.insert(new VirtualUicc(PROFILE));
    expect(reader.present()).toBe(true);
    reader.remove();
    reader.remove();
    off();
    reader.insert(new VirtualUicc(PROFILE));
    reader.remove();
    expect(events).toEqual(['inserted', 'removed', 'inserted']);
  });

  it("open() with no card rejects 'no-card'; a second open while a session is open is 'busy'", async () => {
    const reader = new SimCardReader();
    expect(await kindOf(reader.open())).toBe('no-card');
    reader.insert(new VirtualUicc(PROFILE));
    const sim = await reader.open();
    expect(await kindOf(reader.open())).toBe('busy');
    await sim.close();
    expect(await kindOf(reader.open())).toBe('resolved');
  });

  it("a card yanked mid-command rejects 'card-removed' at once, without a hang", async () => {
    const clock = new VirtualClock({ start: 0 });
    const reader = new SimCardReader({ clock });
    reader.insert(new VirtualUicc(PROFILE));
    const sim = await reader.open();
    reader.setApduDelay(200);
    const reading = kindOf(sim.iccid());
    await clock.advance(100);
    reader.remove();
    expect(await reading).toBe('card-removed');
    expect(await kindOf(sim.pinStatus())).toBe('card-removed');
    expect(clock.pending()).toBe(0);
  });

  it('FIG. 9: a wrong PIN via the SimCard costs a try on the card, which survives re-insertion', async () => {
    const reader = new SimCardReader();
    const card = new VirtualUicc(PROFILE);
    reader.insert(card);
    const sim = await reader.open();
    expect(await sim.verifyPin('9999')).toEqual({ status: 'wrong', retriesLeft: 2 });
    reader.remove();
    reader.insert(card);
    const again = await reader.open();
    expect(await again.pinStatus()).toEqual({
      enabled: true,
      verified: false,
      retriesLeft: 2,
      blocked: false,
      pukRetriesLeft: 10,
    });
    expect(await again.verifyPin('9999')).toEqual({ status: 'wrong', retriesLeft: 1 });
    expect(await again.verifyPin(PROFILE.pin!)).toEqual({ status: 'ok' });
  });

  it('yankAfterApdus(n) pulls the card during the (n+1)-th APDU and announces the removal', async () => {
    const reader = new SimCardReader();
    let removed = 0;
    reader.on('removed', () => removed++);
    reader.insert(new VirtualUicc(PROFILE));
    const sim = await reader.open();
    reader.yankAfterApdus(1);
    expect(await kindOf(sim.iccid())).toBe('card-removed');
    expect(removed).toBe(1);
    expect(reader.present()).toBe(false);
  });

  it('FIG. 11-A: a list write cut off by removal leaves each record either old or new', async () => {
    const outcomes = new Set<string>();
    let mixed = false;
    for (let cutAt = 0; !outcomes.has('resolved') && cutAt < 64; cutAt++) {
      const reader = new SimCardReader();
      const card = new VirtualUicc(PROFILE);
      reader.insert(card);
      const sim = await reader.open();
      await sim.verifyPin(PROFILE.pin!);
      await writeTerminalIds(sim, ['old-1', 'old-2', 'old-3']);
      reader.yankAfterApdus(cutAt, { processed: cutAt % 2 === 1 });
      const outcome = await kindOf(writeTerminalIds(sim, ['new-1', 'new-2']));
      reader.reset();
      reader.insert(card);
      const after = await reader.open();
      await after.verifyPin(PROFILE.pin!);
      const ids = await readTerminalIds(after);
      outcomes.add(outcome);
      if (ids.some((id) => id.startsWith('new')) && ids.some((id) => id.startsWith('old'))) mixed = true;
      if (outcome === 'resolved') {
        expect(ids).toEqual(['new-1', 'new-2']);
        continue;
      }
      expect(outcome).toBe('card-removed');
      for (const id of ids) expect(['old-1', 'old-2', 'old-3', 'new-1', 'new-2']).toContain(id);
    }
    expect([...outcomes].sort()).toEqual(['card-removed', 'resolved']);
    expect(mixed).toBe(true);
  });

  it("maps card errors to HalError kinds: 'pin-required', 'no-space', 'not-supported' for a malformed PIN", async () => {
    const reader = new SimCardReader();
    reader.insert(new VirtualUicc({ ...PROFILE, terminalIdRecords: 2 }));
    const sim = await reader.open();
    expect(await kindOf(sim.imsi())).toBe('pin-required');
    expect(await kindOf(sim.verifyPin('12'))).toBe('not-supported');
    await sim.verifyPin(PROFILE.pin!);
    expect(await kindOf(writeTerminalIds(sim, ['a', 'b', 'c']))).toBe('no-space');
    expect(await readTerminalIds(sim)).toEqual([]);
  });

  it('records APDU traffic as hex for assertions', async () => {
    const reader = new SimCardReader();
    reader.insert(new VirtualUicc(PROFILE));
    const sim = await reader.open();
    const before = reader.traffic().length;
    await sim.transmit(Uint8Array.of(0x80, 0xf2, 0x00, 0x00, 0x00));
    const last = reader.traffic().at(-1);
    expect(reader.traffic()).toHaveLength(before + 1);
    expect(last?.command).toBe('80F2000000');
    expect(last?.response).toMatch(/^([0-9A-F]{2})*9000$/);
  });

  it("after close() calls reject 'card-removed'; reset() empties the reader and the log", async () => {
    const reader = new SimCardReader();
    reader.insert(new VirtualUicc(PROFILE));
    const sim = await reader.open();
    await sim.close();
    expect(await kindOf(sim.iccid())).toBe('card-removed');
    reader.reset();
    expect(reader.present()).toBe(false);
    expect(reader.traffic()).toEqual([]);
    expect(reader.openCount()).toBe(0);
  });
});

describe('SimCardReader: issue 14 card kinds and faults', () => {
  it("hang(): with commandTimeoutMs on the clock the APDU rejects 'timeout'; close() ends a wait at once", async () => {
    const clock = new VirtualClock({ start: 0 });
    const reader = new SimCardReader({ clock, commandTimeoutMs: 5000 });
    reader.insert(new VirtualUicc(PROFILE));
    const sim = await reader.open();
    reader.hang();
    // The APDU is waiting on the card once its command timeout is armed on the clock.
    const sent = () => expect.poll(() => clock.pending(), { timeout: 1000, interval: 1 }).toBe(1);
    const timedOut = kindOf(sim.iccid());
    await sent();
    await clock.advance(5000);
    expect(await timedOut).toBe('timeout');
    const cut = kindOf(sim.iccid());
    await sent();
    await clock.advance(100);
    await sim.close();
    expect(await cut).toBe('card-removed');
    expect(clock.pending()).toBe(0);
  });

  it("a USIM-only card whose ADF answer does not decode is 'card-error', not 'card-blocked'", async () => {
    const reader = new SimCardReader();
    const uicc = new VirtualUicc({ ...PROFILE, classes: 'usim-only' });
    reader.slot.insert({
      powerOn: () => uicc.powerOn(),
      powerOff: () => uicc.powerOff(),
      process: (apdu) => {
        const r = uicc.process(apdu);
        return apdu[1] === 0xa4 && apdu[2] === 0x04 ? Uint8Array.of(0x62, 0x7f, ...r.subarray(-2)) : r;
      },
    });
    expect(await kindOf(reader.open())).toBe('card-error');
  });

  it("a card answering 6E00 to everything is still 'card-blocked'", async () => {
    const reader = new SimCardReader();
    reader.slot.insert({
      powerOn: () => new Uint8Array(0),
      powerOff: () => {},
      process: () => Uint8Array.of(0x6e, 0),
    });
    expect(await kindOf(reader.open())).toBe('card-blocked');
  });
});
