import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CardReader, isHalError, type PinStatus, type SimCard } from '../../hal/index.js';
import { readTerminalIds, writeTerminalIds } from '../../uicc/index.js';
import { delay, rejection, waitFor } from './wait.js';

/**
 * The card a contract run puts in the reader. PIN1 is enabled with 3 tries;
 * the PUK has 10. The optional fields are the real-card kinds of issue 14,
 * named as in uicc's VirtualUiccProfile so every fake can take them as they are.
 */
export interface ContractCardProfile {
  iccid: string;
  imsi: string;
  pin: string;
  puk: string;
  /** False: a card with PIN1 disabled (needs no PIN). */
  pin1Enabled?: boolean;
  /** 'usim-only': CLA A0 answers 6E00, as on modern cards and eSIM profiles. */
  classes?: 'both' | 'usim-only' | 'sim-only';
  /** ADF_USIM answers SELECT with an FCP carrying 84 and no 83 (sysmoISIM-SJA2). */
  adfFcpWithoutFileId?: boolean;
}

export const CONTRACT_CARD: ContractCardProfile = {
  iccid: '89490200001234567892',
  imsi: '262011234567890',
  pin: '1234',
  puk: '12345678',
};

/** What pinStatus() says of a CONTRACT_CARD before PIN1 is presented in the session (hal/card-reader.ts PinStatus). */
export const FRESH_PIN_STATUS: PinStatus = {
  enabled: true,
  verified: false,
  retriesLeft: 3,
  blocked: false,
  pukRetriesLeft: 10,
};

export interface CardReaderUnderTest {
  /** An empty reader. */
  reader: CardReader;
  /** Puts a fresh card with `profile` in the reader (physically or virtually). */
  insert: (profile: ContractCardProfile) => Promise<void>;
  /** Takes the card out. */
  remove: () => Promise<void>;
  /** The card in the reader stops answering (a wedged chip); taking it out ends that. */
  hang: () => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

/** EF_ADN under DF_TELECOM (TS 51.011 §10.5.1), a record EF every SIM and USIM has. */
const EF_ADN = [0x3f00, 0x7f10, 0x6f3a] as const;

/** Bound on `SimCard.close()` with a card that does not answer (hal/card-reader.ts). */
const CLOSE_BOUND_MS = 3000;

/**
 * The shared CardReader / SimCard contract (hal/card-reader.ts), run against
 * the simulated reader, PC/SC with a virtual card and the modem simulator.
 */
export function describeCardReaderContract(
  name: string,
  makeReader: () => Promise<CardReaderUnderTest>,
): void {
  describe(`CardReader contract: ${name}`, () => {
    let ut: CardReaderUnderTest;
    let events: string[];
    let card: SimCard | undefined;

    const insertAndOpen = async (profile: Partial<ContractCardProfile> = {}): Promise<SimCard> => {
      await ut.insert({ ...CONTRACT_CARD, ...profile });
      await waitFor(() => ut.reader.present(), { what: 'card present' });
      card = await ut.reader.open();
      return card;
    };

    beforeEach(async () => {
      ut = await makeReader();
      events = [];
      card = undefined;
      ut.reader.on('inserted', () => events.push('inserted'));
      ut.reader.on('removed', () => events.push('removed'));
    });

    afterEach(async () => {
      await card?.close().catch(() => {});
      await ut.cleanup?.();
    });

    it("open() on an empty reader rejects 'no-card' at once", async () => {
      expect(ut.reader.present()).toBe(false);
      expect(isHalError(await rejection(ut.reader.open()), 'no-card')).toBe(true);
    });

    it("fires 'inserted' and 'removed' once per change, in order", async () => {
      await ut.insert(CONTRACT_CARD);
      await waitFor(() => events.length >= 1, { what: 'inserted' });
      expect(ut.reader.present()).toBe(true);
      await ut.remove();
      await waitFor(() => events.length >= 2, { what: 'removed' });
      expect(ut.reader.present()).toBe(false);
      expect(events).toEqual(['inserted', 'removed']);
    });

    it('reads the ICCID without PIN; the IMSI and terminal IDs need PIN1', async () => {
      const sim = await insertAndOpen();
      expect(sim.atr.length).toBeGreaterThan(1);
      expect(['sim', 'usim']).toContain(sim.application);
      expect(await sim.iccid()).toBe(CONTRACT_CARD.iccid);
      expect(await sim.pinStatus()).toEqual(FRESH_PIN_STATUS);
      expect(isHalError(await rejection(sim.imsi()), 'pin-required')).toBe(true);
      expect(isHalError(await rejection(readTerminalIds(sim)), 'pin-required')).toBe(true);
      expect(await sim.verifyPin(CONTRACT_CARD.pin)).toEqual({ status: 'ok' });
      expect(await sim.imsi()).toBe(CONTRACT_CARD.imsi);
      expect(await sim.pinStatus()).toEqual({ ...FRESH_PIN_STATUS, verified: true });
    });

    it('a wrong PIN counts down on the card, then blocks; the PUK unblocks with a new PIN', async () => {
      const sim = await insertAndOpen();
      expect(await sim.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 2 });
      expect(await sim.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 1 });
      expect(await sim.verifyPin('0000')).toEqual({ status: 'blocked' });
      expect(await sim.verifyPin(CONTRACT_CARD.pin)).toEqual({ status: 'blocked' });
      expect(await sim.pinStatus()).toMatchObject({ retriesLeft: 0 });
      expect(await sim.unblockPin(CONTRACT_CARD.puk, '4321')).toEqual({ status: 'ok' });
      expect(await sim.pinStatus()).toEqual({ ...FRESH_PIN_STATUS, verified: true });
      expect(await sim.imsi()).toBe(CONTRACT_CARD.imsi);
    });

    it('issue 14: a card with PIN1 disabled needs no PIN; verifyPin presents nothing and says so', async () => {
      const sim = await insertAndOpen({ pin1Enabled: false });
      expect(await sim.pinStatus()).toEqual({ ...FRESH_PIN_STATUS, enabled: false, verified: true });
      expect(await sim.imsi()).toBe(CONTRACT_CARD.imsi);
      expect(await sim.verifyPin('0000')).toEqual({ status: 'disabled' });
      expect(await sim.pinStatus()).toMatchObject({ retriesLeft: 3 });
      await writeTerminalIds(sim, ['4711']);
      expect(await readTerminalIds(sim)).toEqual(['4711']);
    });

    it('issue 14: a USIM-only card whose ADF FCP has no 83 is a USIM, not a blocked card', async () => {
      const sim = await insertAndOpen({ classes: 'usim-only', adfFcpWithoutFileId: true });
      expect(sim.application).toBe('usim');
      expect(await sim.iccid()).toBe(CONTRACT_CARD.iccid);
      expect(await sim.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 2 });
      expect(await sim.verifyPin(CONTRACT_CARD.pin)).toEqual({ status: 'ok' });
      expect(await sim.imsi()).toBe(CONTRACT_CARD.imsi);
    });

    it('issue 14: a card that stops answering: close() resolves within its bound, the call in flight settles', async () => {
      const sim = await insertAndOpen();
      await ut.hang();
      const outcome = sim.iccid().then(
        () => 'resolved',
        (e) => (isHalError(e) ? e.kind : `not a HalError: ${String(e)}`),
      );
      await delay(50);
      const started = Date.now();
      await sim.close();
      expect(Date.now() - started).toBeLessThan(CLOSE_BOUND_MS);
      const settled = await Promise.race([outcome, delay(10_000).then(() => 'still pending after 10 s')]);
      expect(['timeout', 'card-removed']).toContain(settled);
    });

    it('FIG. 11-A: writes the terminal-ID list and reads it back', async () => {
      const sim = await insertAndOpen();
      await sim.verifyPin(CONTRACT_CARD.pin);
      expect(await readTerminalIds(sim)).toEqual([]);
      await writeTerminalIds(sim, ['term-a', 'term-b']);
      expect(await readTerminalIds(sim)).toEqual(['term-a', 'term-b']);
      await writeTerminalIds(sim, ['term-b']);
      expect(await readTerminalIds(sim)).toEqual(['term-b']);
    });

    it('readRecords / updateRecord: EF_ADN after PIN1, one whole record written and read back', async () => {
      const sim = await insertAndOpen();
      expect(isHalError(await rejection(sim.readRecords(EF_ADN)), 'pin-required')).toBe(true);
      await sim.verifyPin(CONTRACT_CARD.pin);
      const before = await sim.readRecords(EF_ADN);
      expect(before.length).toBeGreaterThan(1);
      const length = before[0]!.length;
      const record = Uint8Array.from({ length }, (_, i) => (i < 4 ? 0x41 + i : 0xff));
      await sim.updateRecord(EF_ADN, 2, record);
      const after = await sim.readRecords(EF_ADN);
      expect(after[1]).toEqual(record);
      expect(after.filter((_, i) => i !== 1)).toEqual(before.filter((_, i) => i !== 1));
    });

    it("bad file access is refused before anything is written: 'not-supported', or 'card-error' with the SW for no file", async () => {
      const sim = await insertAndOpen();
      await sim.verifyPin(CONTRACT_CARD.pin);
      const before = await sim.readRecords(EF_ADN);
      const length = before[0]!.length;
      for (const bad of [
        () => sim.updateRecord(EF_ADN, 1, new Uint8Array(length + 1).fill(0x41)),
        () => sim.updateRecord(EF_ADN, 0, new Uint8Array(length).fill(0x41)),
        () => sim.updateRecord(EF_ADN, before.length + 1, new Uint8Array(length).fill(0x41)),
        () => sim.updateRecord([0x7f10, 0x6f3a], 1, new Uint8Array(length).fill(0x41)),
        () => sim.readRecords([]),
      ]) {
        expect(isHalError(await rejection(bad()), 'not-supported')).toBe(true);
      }
      expect(await sim.readRecords(EF_ADN)).toEqual(before);
      const missing = await rejection(sim.readRecords([0x3f00, 0x7f10, 0x6fee]));
      expect(isHalError(missing, 'card-error')).toBe(true);
      expect([0x6a82, 0x9404]).toContain((missing as { sw?: number }).sw);
    });

    it('transmit() exchanges a raw APDU and returns at least SW1 SW2', async () => {
      const sim = await insertAndOpen();
      // STATUS (TS 102 221 §11.1.2 / TS 51.011 §9.2.2), valid in any state.
      const status =
        sim.application === 'usim' ? [0x80, 0xf2, 0x00, 0x00, 0x00] : [0xa0, 0xf2, 0x00, 0x00, 0x00];
      const response = await sim.transmit(Uint8Array.from(status));
      expect(response.length).toBeGreaterThanOrEqual(2);
    });

    it("after removal every call on the session rejects 'card-removed'", async () => {
      const sim = await insertAndOpen();
      await ut.remove();
      await waitFor(() => !ut.reader.present(), { what: 'removal' });
      for (const call of [
        () => sim.iccid(),
        () => sim.verifyPin(CONTRACT_CARD.pin),
        () => readTerminalIds(sim),
      ]) {
        expect(isHalError(await rejection(call()), 'card-removed')).toBe(true);
      }
      await sim.close();
    });

    it('close() is idempotent and the card can be opened again', async () => {
      const sim = await insertAndOpen();
      await sim.close();
      await sim.close();
      card = await ut.reader.open();
      expect(await card.iccid()).toBe(CONTRACT_CARD.iccid);
    });
  });
}
