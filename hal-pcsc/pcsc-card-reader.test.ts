import { describe, expect, it } from 'vitest';
import { describeCardReaderContract, FRESH_PIN_STATUS } from '../test/contracts/card-reader.contract.js';
import { kindOf } from '../test/support/hal-error-kind.js';
import {
  adnTerminalIdCodec,
  type CardClasses,
  readIdList,
  readTerminalIds,
  terminalIdStorage,
  VirtualUicc,
  type VirtualUiccProfile,
  writeTerminalIds,
} from '../uicc/index.js';
import { openPcscReader } from './open-reader.js';
import { VpcdCard } from './vpcd-card.js';
import { rigPerTest, TEST_CARD, TEST_VPCD_HOST, waitUntil } from './vpcd-test-rig.js';

const rig = rigPerTest();

describeCardReaderContract('PcscCardReader through pcscd + vsmartcard-vpcd', async () => {
  // Short bounds so the contract's card that stops answering costs seconds, not the 5 s default.
  const reader = await openPcscReader({
    reader: rig().slot.readerName,
    commandTimeoutMs: 1500,
    closeTimeoutMs: 1000,
  });
  let card: VpcdCard | undefined;
  const remove = async () => {
    await card?.remove();
    card = undefined;
  };
  return {
    reader,
    insert: async (profile) => {
      card = await VpcdCard.insert(new VirtualUicc(profile), { host: TEST_VPCD_HOST, port: rig().slot.port });
    },
    remove,
    hang: async () => card?.failOnApdu({ match: () => true, action: 'stall' }),
    cleanup: async () => {
      await remove();
      await waitUntil(() => !reader.present(), 'an empty reader after the test');
      await reader.close();
    },
  };
});

describe('PcscCardReader: insertion and removal through pcscd', () => {
  it('reports each card in and out once, in order, with its ATR', async () => {
    const events: string[] = [];
    rig().reader.on('inserted', () => events.push('inserted'));
    rig().reader.on('removed', () => events.push('removed'));
    for (const iccid of ['8988211000000430010', '89490200001234567892']) {
      await rig().insert({ iccid });
      expect(rig().reader.atr()).toEqual(rig().card!.atr);
      const session = rig().track(await rig().reader.open());
      expect(await session.iccid()).toBe(iccid);
      await rig().reset();
    }
    expect(events).toEqual(['inserted', 'removed', 'inserted', 'removed']);
  });
});

describe('PcscCardReader: identities and PIN through pcscd', () => {
  it('reads ICCID without PIN and IMSI after PIN1, as a USIM over T=0', async () => {
    const sim = await rig().open();
    expect(sim.application).toBe('usim');
    expect(sim.protocol).toBe('T0');
    expect(await sim.iccid()).toBe(TEST_CARD.iccid);
    expect(await kindOf(sim.imsi())).toBe('pin-required');
    expect(await sim.verifyPin('1234')).toEqual({ status: 'ok' });
    expect(await sim.imsi()).toBe(TEST_CARD.imsi);
  });

  it('PIN tries count down on the card and stay blocked in the next session; the PUK unblocks', async () => {
    const sim = await rig().open();
    expect(await sim.pinStatus()).toEqual(FRESH_PIN_STATUS);
    expect(await sim.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 2 });
    expect(await sim.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 1 });
    expect(await sim.verifyPin('0000')).toEqual({ status: 'blocked' });
    await sim.close();
    const again = rig().track(await rig().reader.open());
    expect(await again.pinStatus()).toMatchObject({ retriesLeft: 0 });
    expect(await again.verifyPin('1234')).toEqual({ status: 'blocked' });
    expect(await kindOf(again.imsi())).toBe('pin-required');
    expect(await again.unblockPin('87654321', '4321')).toEqual({ status: 'wrong', retriesLeft: 9 });
    expect(await again.unblockPin('12345678', '4321')).toEqual({ status: 'ok' });
    expect(await again.imsi()).toBe(TEST_CARD.imsi);
    expect(rig().uicc!.snapshot()).toMatchObject({ pinRetriesLeft: 3, pukRetriesLeft: 10 });
  });

  it('closing a session resets the card, so the next session must present PIN1 again', async () => {
    const sim = await rig().open();
    await sim.verifyPin('1234');
    await sim.close();
    const next = rig().track(await rig().reader.open());
    expect(await next.pinStatus()).toEqual(FRESH_PIN_STATUS);
  });
});

describe('FIG. 11-A/B: the terminal-ID list through pcscd', () => {
  const phonebook = [
    { name: 'Mum', number: '0123456789' },
    { name: 'Dad', number: '0049301234' },
  ];

  it('uses the proprietary file when the card has it', async () => {
    const sim = await rig().open({ terminalIdFile: true });
    await sim.verifyPin('1234');
    expect(await terminalIdStorage(sim)).toBe('proprietary-file');
    await writeTerminalIds(sim, ['pc-office', 'pi-kitchen']);
    expect(await readTerminalIds(sim)).toEqual(['pc-office', 'pi-kitchen']);
  });

  it('falls back to EF_ADN on a card without it, leaving the phonebook untouched', async () => {
    const sim = await rig().open({ terminalIdFile: false, adnRecords: 5, phonebook });
    await sim.verifyPin('1234');
    expect(await terminalIdStorage(sim)).toBe('adn');
    const userRecords = rig().uicc!.snapshot().adnRecords.slice(0, 2);
    await writeTerminalIds(sim, ['356938035643809', '4711']);
    expect(await readTerminalIds(sim)).toEqual(['356938035643809', '4711']);
    const records = rig().uicc!.snapshot().adnRecords;
    expect(records.slice(0, 2)).toEqual(userRecords);
    expect(readIdList(records, adnTerminalIdCodec)).toEqual(['356938035643809', '4711']);
    expect(await kindOf(writeTerminalIds(sim, ['1', '2', '3', '4']))).toBe('no-space');
    expect(await readTerminalIds(sim)).toEqual(['356938035643809', '4711']);
  });
});

interface Mode {
  name: string;
  profile: Partial<VirtualUiccProfile>;
  application: 'sim' | 'usim';
}

const MODES: Mode[] = [
  { name: 'T=0 GET RESPONSE (61xx)', profile: { t0GetResponse: true }, application: 'usim' },
  { name: 'strict Le (6Cxx / 67xx)', profile: { strictLe: true }, application: 'usim' },
  { name: 'USIM only (CLA 00)', profile: { classes: 'usim-only' as CardClasses }, application: 'usim' },
  { name: '2G SIM only (CLA A0, 9Fxx)', profile: { classes: 'sim-only' as CardClasses }, application: 'sim' },
  {
    name: 'all quirks, no proprietary file',
    profile: { t0GetResponse: true, strictLe: true, classes: 'usim-only', terminalIdFile: false },
    application: 'usim',
  },
  {
    name: '2G, strict Le, no proprietary file',
    profile: { classes: 'sim-only', strictLe: true, terminalIdFile: false },
    application: 'sim',
  },
];

describe('every virtual card mode works through pcscd', () => {
  it.each(MODES)('$name', async ({ profile, application }) => {
    const sim = await rig().open(profile);
    expect(sim.application).toBe(application);
    expect(await sim.iccid()).toBe(TEST_CARD.iccid);
    expect(await sim.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 2 });
    expect(await sim.verifyPin('1234')).toEqual({ status: 'ok' });
    expect(await sim.pinStatus()).toEqual({ ...FRESH_PIN_STATUS, verified: true });
    expect(await sim.imsi()).toBe(TEST_CARD.imsi);
    await writeTerminalIds(sim, ['4711', '0815']);
    expect(await readTerminalIds(sim)).toEqual(['4711', '0815']);
  });
});

describe('issue 14: real-card kinds through pcscd + vpcd', () => {
  const noPin = { enabled: false, verified: true, retriesLeft: 3, blocked: false, pukRetriesLeft: 10 };

  it.each([
    { name: 'USIM-only, SJA2 ADF FCP without 83, T=0', profile: { t0GetResponse: true } },
    { name: 'USIM-only, SJA2 ADF FCP without 83, strict Le', profile: { strictLe: true } },
  ])('$name: opens as a USIM and works (was card-blocked)', async ({ profile }) => {
    const sim = await rig().open({ classes: 'usim-only', adfFcpWithoutFileId: true, ...profile });
    expect(sim.application).toBe('usim');
    expect(await sim.iccid()).toBe(TEST_CARD.iccid);
    expect(await sim.pinStatus()).toEqual({ ...noPin, enabled: true, verified: false });
    expect(await sim.verifyPin('1234')).toEqual({ status: 'ok' });
    expect(await sim.imsi()).toBe(TEST_CARD.imsi);
    await writeTerminalIds(sim, ['4711']);
    expect(await readTerminalIds(sim)).toEqual(['4711']);
  });

  it.each([
    { name: '3G, SJA2 ADF FCP (PS_DO 70)', profile: { adfFcpWithoutFileId: true } },
    { name: '3G, USIM-only, T=0', profile: { classes: 'usim-only' as CardClasses, t0GetResponse: true } },
    { name: '2G (byte 14 b8, VERIFY 9808)', profile: { classes: 'sim-only' as CardClasses } },
  ])('PIN1 disabled, $name: no PIN needed, verifyPin presents nothing', async ({ profile }) => {
    const sim = await rig().open({ pin1Enabled: false, ...profile });
    expect(await sim.pinStatus()).toEqual(noPin);
    expect(await sim.imsi()).toBe(TEST_CARD.imsi);
    expect(await sim.verifyPin('0000')).toEqual({ status: 'disabled' });
    expect(rig().uicc!.snapshot().pinRetriesLeft).toBe(3);
    expect(
      rig()
        .card!.traffic()
        .some((x) => x.command.slice(2, 4) === '20' && x.command.length > 10),
    ).toBe(false);
  });

  it("a USIM-only card whose ADF answer does not decode is 'card-error', not 'card-blocked'", async () => {
    const uicc = new VirtualUicc({ ...TEST_CARD, classes: 'usim-only' });
    const broken = {
      powerOn: () => uicc.powerOn(),
      powerOff: () => uicc.powerOff(),
      process: (apdu: Uint8Array) => {
        const r = uicc.process(apdu);
        return apdu[1] === 0xa4 && apdu[2] === 0x04 ? Uint8Array.of(0x62, 0x7f, ...r.subarray(-2)) : r;
      },
    };
    await rig().insertCard(broken);
    expect(await kindOf(rig().reader.open())).toBe('card-error');
  });
});
