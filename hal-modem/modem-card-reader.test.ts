import { afterEach, describe, expect, it } from 'vitest';
import { FRESH_PIN_STATUS } from '../test/contracts/card-reader.contract.js';
import { kindOf } from '../test/support/hal-error-kind.js';
import { readTerminalIds, writeTerminalIds } from '../uicc/index.js';
import { type Bench, bench, CARD, card, POLL } from './test-support.js';

let b: Bench;
afterEach(async () => {
  await b?.close();
});

/** How many times the simulated modem has received `command`. */
const sent = (command: string) => b.host.modem.commands().filter((c) => c === command).length;

const VENDOR = {
  quectel: { iccid: 'AT+QCCID', counters: 'AT+QPINC="SC"', init: 'AT+QSIMSTAT=1' },
  simcom: { iccid: 'AT+CICCID', counters: 'AT+SPIC', init: 'AT+UIMHOTSWAPON=1' },
  generic: { iccid: 'AT+CCID', counters: 'AT+CPINR', init: 'AT+CEREG=1' },
} as const;

for (const dialect of ['quectel', 'simcom', 'generic'] as const) {
  describe(`ModemCardReader, ${dialect} dialect`, () => {
    it('detects the dialect from ATI / AT+CGMM and switches its URCs on', async () => {
      b = await bench(dialect, { card: card() });
      expect(b.modem.dialect.name).toBe(dialect);
      expect(b.host.modem.commands()).toContain(VENDOR[dialect].init);
      expect(b.modem.reader.present()).toBe(true);
    });

    it('reads ICCID with the vendor command, PIN state and counters, then the IMSI after PIN', async () => {
      b = await bench(dialect, { card: card() });
      const sim = await b.modem.reader.open();
      expect(await sim.iccid()).toBe(CARD.iccid);
      expect(await sim.pinStatus()).toEqual(FRESH_PIN_STATUS);
      expect(await kindOf(sim.imsi())).toBe('pin-required');
      expect(await sim.verifyPin('9999')).toEqual({ status: 'wrong', retriesLeft: 2 });
      expect(await sim.verifyPin(CARD.pin!)).toEqual({ status: 'ok' });
      expect(await sim.imsi()).toBe(CARD.imsi);
      const sent = b.host.modem.commands();
      expect(sent).toContain(VENDOR[dialect].iccid);
      expect(sent).toContain(VENDOR[dialect].counters);
      expect(sent).toContain('AT+CPIN="1234"');
      await sim.close();
    });

    it('hot-swap URCs become removed / inserted events, once per change', async () => {
      b = await bench(dialect, { card: card() });
      const events: string[] = [];
      b.modem.reader.on('inserted', () => events.push('inserted'));
      b.modem.reader.on('removed', () => events.push('removed'));
      b.host.modem.removeCard();
      await expect.poll(() => events.length, POLL).toBe(1);
      b.host.modem.insertCard(card());
      await expect.poll(() => events.length, POLL).toBe(2);
      b.host.modem.removeCard();
      await expect.poll(() => events.length, POLL).toBe(3);
      expect(events).toEqual(['removed', 'inserted', 'removed']);
      expect(await kindOf(b.modem.reader.open())).toBe('no-card');
    });
  });
}

describe('ModemCardReader faults', () => {
  it("a card pulled during a slow command rejects 'card-removed', never hangs", async () => {
    b = await bench('quectel', { card: card() });
    const sim = await b.modem.reader.open();
    await sim.verifyPin(CARD.pin!);
    b.host.modem.delayNextReply(150);
    const before = sent('AT+CIMI');
    const pending = kindOf(sim.imsi());
    await expect.poll(() => sent('AT+CIMI'), POLL).toBeGreaterThan(before);
    b.host.modem.removeCard();
    expect(await pending).toBe('card-removed');
    expect(await kindOf(sim.iccid())).toBe('card-removed');
  });

  it('FIG. 11-A: the terminal-ID list goes through AT+CSIM with the uicc/ code', async () => {
    b = await bench('simcom', { card: card() });
    const sim = await b.modem.reader.open();
    await sim.verifyPin(CARD.pin!);
    await writeTerminalIds(sim, ['pi-kitchen']);
    expect(await readTerminalIds(sim)).toEqual(['pi-kitchen']);
    expect(b.host.modem.commands().some((c) => c.startsWith('AT+CSIM='))).toBe(true);
  });

  it('falls back to AT+CRSM for the ICCID; without AT+CSIM the list is not-supported', async () => {
    b = await bench('generic', { card: card(), unsupported: ['+CCID', '+ICCID', '+CSIM'] });
    const sim = await b.modem.reader.open();
    expect(await sim.iccid()).toBe(CARD.iccid);
    expect(b.host.modem.commands()).toContain('AT+CRSM=176,12258,0,0,10');
    await sim.verifyPin(CARD.pin!);
    expect(await kindOf(readTerminalIds(sim))).toBe('not-supported');
    expect(await kindOf(sim.transmit(Uint8Array.of(0x80, 0xf2, 0, 0, 0)))).toBe('not-supported');
  });

  it('a PIN verified earlier is still judged by the card (VERIFY through AT+CSIM)', async () => {
    b = await bench('quectel', { card: card() });
    const sim = await b.modem.reader.open();
    expect(await sim.verifyPin(CARD.pin!)).toEqual({ status: 'ok' });
    expect(await sim.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 2 });
    expect(await sim.verifyPin(CARD.pin!)).toEqual({ status: 'ok' });
  });

  it('a modem reboot is a removal and a new insertion; the old session is dead, PIN1 is asked again', async () => {
    b = await bench('quectel', { card: card() });
    const events: string[] = [];
    b.modem.reader.on('inserted', () => events.push('inserted'));
    b.modem.reader.on('removed', () => events.push('removed'));
    const sim = await b.modem.reader.open();
    await sim.verifyPin(CARD.pin!);
    await b.host.modem.reboot({ downMs: 30 });
    await expect.poll(() => events.length, POLL).toBe(2);
    expect(events).toEqual(['removed', 'inserted']);
    expect(await kindOf(sim.imsi())).toBe('card-removed');
    const again = await b.modem.reader.open();
    expect(await again.pinStatus()).toEqual(FRESH_PIN_STATUS);
  });

  it('the port vanishing is a removal; the card is announced again when it returns', async () => {
    b = await bench('simcom', { card: card() });
    const events: string[] = [];
    b.modem.reader.on('inserted', () => events.push('inserted'));
    b.modem.reader.on('removed', () => events.push('removed'));
    const sim = await b.modem.reader.open();
    await b.host.unplug();
    await expect.poll(() => events.length, POLL).toBe(1);
    expect(await kindOf(sim.iccid())).toBe('card-removed');
    await b.host.replug();
    // Depending on who is first, the port or the modem's RDY, the card may be announced twice.
    await expect.poll(() => events.at(-1), POLL).toBe('inserted');
    // Barrier, not a sleep: a RDY the modem sent on replug precedes its answer to this AT+CPIN? on the
    // line, so it has been seen by then; the second refresh joins the SIM wait such a RDY started.
    await b.modem.reader.refresh();
    await b.modem.reader.refresh();
    expect(events.at(-1)).toBe('inserted');
    const again = await b.modem.reader.open();
    expect(await again.iccid()).toBe(CARD.iccid);
  });
});

describe('issue 14: PIN state and PUK counter from the modem', () => {
  it.each(['quectel', 'simcom', 'generic'] as const)(
    '%s: after three wrong PINs the status says blocked and the PUK counter reads 10, then 9',
    async (dialect) => {
      b = await bench(dialect, { card: card() });
      const sim = await b.modem.reader.open();
      for (let i = 0; i < 3; i++) await sim.verifyPin('0000');
      expect(await sim.pinStatus()).toEqual({
        enabled: true,
        verified: false,
        retriesLeft: 0,
        blocked: true,
        pukRetriesLeft: 10,
      });
      expect(await sim.unblockPin('87654321', '4321')).toEqual({ status: 'wrong', retriesLeft: 9 });
      expect(await sim.pinStatus()).toMatchObject({ blocked: true, pukRetriesLeft: 9 });
      expect(await sim.unblockPin(CARD.puk ?? '12345678', '4321')).toEqual({ status: 'ok' });
      expect(await sim.pinStatus()).toMatchObject({ verified: true, blocked: false, retriesLeft: 3 });
    },
  );

  it('a modem without AT+CLCK: "PIN1 disabled" comes from the card through AT+CSIM (PS_DO)', async () => {
    b = await bench('generic', { card: card({ pin1Enabled: false }), unsupported: ['+CLCK'] });
    const sim = await b.modem.reader.open();
    expect(await sim.pinStatus()).toMatchObject({ enabled: false, verified: true, retriesLeft: 3 });
    expect(await sim.verifyPin('0000')).toEqual({ status: 'disabled' });
    expect(await sim.imsi()).toBe(CARD.imsi);
  });
});

describe('issue 14 item 5: a hung SIM does not block shutdown', () => {
  it('with a SIM command unanswered, SimCard.close() and Modem.close() resolve at once; the call settles', async () => {
    b = await bench('quectel', { card: card() });
    const sim = await b.modem.reader.open();
    b.host.modem.hangSim();
    const before = sent('AT+QCCID');
    const pending = kindOf(sim.iccid());
    await expect.poll(() => sent('AT+QCCID'), POLL).toBeGreaterThan(before);
    let started = Date.now();
    await sim.close();
    expect(Date.now() - started).toBeLessThan(500);
    started = Date.now();
    await b.modem.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(['timeout', 'device-unavailable', 'card-removed']).toContain(await pending);
  });
});
