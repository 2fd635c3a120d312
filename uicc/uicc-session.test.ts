import { describe, expect, it } from 'vitest';
import { toHex } from './hex.js';
import { RecordingTransport } from './recording-transport.js';
import { adnTerminalIdCodec } from './terminal-id-adn.js';
import { readIdList } from './terminal-id-codec.js';
import { UiccSession } from './uicc-session.js';
import type { VirtualUiccProfile } from './virtual-profile.js';
import { VirtualUicc } from './virtual-uicc.js';

const ICCID = '8988211000000430010';
const IMSI = '228062800000208';

async function open(extra: Partial<VirtualUiccProfile> = {}) {
  const card = new VirtualUicc({ iccid: ICCID, imsi: IMSI, ...extra });
  const transport = new RecordingTransport({ transmit: async (apdu) => card.process(apdu) });
  const session = await UiccSession.open(transport, card.powerOn());
  return { card, transport, session };
}

const sws = (t: RecordingTransport) => t.log.map((x) => toHex(x.response.subarray(-2)));

const modes: [string, Partial<VirtualUiccProfile>, 'sim' | 'usim'][] = [
  ['default card (both classes)', {}, 'usim'],
  ['t0GetResponse', { t0GetResponse: true }, 'usim'],
  ['strictLe', { strictLe: true }, 'usim'],
  ['t0GetResponse + strictLe', { t0GetResponse: true, strictLe: true }, 'usim'],
  ['usim-only', { classes: 'usim-only' }, 'usim'],
  ['sim-only', { classes: 'sim-only' }, 'sim'],
  ['sim-only + strictLe', { classes: 'sim-only', strictLe: true }, 'sim'],
];
const storages: [string, boolean, 'proprietary-file' | 'adn'][] = [
  ['with the proprietary file', true, 'proprietary-file'],
  ['without it (EF_ADN fallback)', false, 'adn'],
];

describe.each(modes)('UiccSession on a %s card', (_name, mode, application) => {
  it(`detects the ${application} application and reads the identities after PIN1`, async () => {
    const { session } = await open(mode);
    expect(session.application).toBe(application);
    expect(await session.iccid()).toBe(ICCID);
    await expect(session.imsi()).rejects.toMatchObject({ kind: 'pin-required' });
    expect(await session.pinStatus()).toEqual({
      enabled: true,
      verified: false,
      retriesLeft: 3,
      blocked: false,
      pukRetriesLeft: 10,
    });
    expect(await session.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 2 });
    expect(await session.verifyPin('1234')).toEqual({ status: 'ok' });
    expect(await session.pinStatus()).toEqual({
      enabled: true,
      verified: true,
      retriesLeft: 3,
      blocked: false,
      pukRetriesLeft: 10,
    });
    expect(await session.imsi()).toBe(IMSI);
  });

  it('wrong PINs block PIN1; the PUK unblocks it with a new PIN', async () => {
    const { session, card } = await open(mode);
    expect(await session.verifyPin('1111')).toEqual({ status: 'wrong', retriesLeft: 2 });
    expect(await session.verifyPin('1111')).toEqual({ status: 'wrong', retriesLeft: 1 });
    expect(await session.verifyPin('1111')).toEqual({ status: 'blocked' });
    expect(await session.verifyPin('1234')).toEqual({ status: 'blocked' });
    expect(await session.pinStatus()).toEqual({
      enabled: true,
      verified: false,
      retriesLeft: 0,
      blocked: true,
      pukRetriesLeft: 10,
    });
    expect(await session.unblockPin('87654321', '4321')).toEqual({ status: 'wrong', retriesLeft: 9 });
    expect(await session.unblockPin('12345678', '4321')).toEqual({ status: 'ok' });
    expect(await session.imsi()).toBe(IMSI);
    expect(card.snapshot()).toMatchObject({ pinRetriesLeft: 3, pukRetriesLeft: 10 });
    expect(await session.verifyPin('4321')).toEqual({ status: 'ok' });
  });

  it('never needs a 6Cxx/67xx correction: it asks for exact lengths', async () => {
    const { session, transport } = await open(mode);
    await session.verifyPin('1234');
    await session.iccid();
    await session.imsi();
    await session.readTerminalIds();
    expect(sws(transport).filter((sw) => /^(6C|67)/.test(sw))).toEqual([]);
  });

  describe.each(storages)('%s', (_s, terminalIdFile, storage) => {
    it(`FIG. 11-A: writes and reads the terminal-ID list in ${storage}`, async () => {
      const { session } = await open({ ...mode, terminalIdFile });
      expect(await session.terminalIdStorage()).toBe(storage);
      await expect(session.readTerminalIds()).rejects.toMatchObject({ kind: 'pin-required' });
      await expect(session.writeTerminalIds(['1'])).rejects.toMatchObject({ kind: 'pin-required' });
      await session.verifyPin('1234');
      expect(await session.readTerminalIds()).toEqual([]);
      await session.writeTerminalIds(['356938035643809', '4711', '*42#']);
      expect(await session.readTerminalIds()).toEqual(['356938035643809', '4711', '*42#']);
      await session.writeTerminalIds(['4711']);
      expect(await session.readTerminalIds()).toEqual(['4711']);
    });

    it('the list survives a power cycle (EEPROM) and is read back by a new session', async () => {
      const { session, card } = await open({ ...mode, terminalIdFile });
      await session.verifyPin('1234');
      await session.writeTerminalIds(['123', '456']);
      await session.close();
      card.powerOff();
      const again = await UiccSession.open({ transmit: async (a) => card.process(a) }, card.powerOn());
      await expect(again.readTerminalIds()).rejects.toMatchObject({ kind: 'pin-required' });
      await again.verifyPin('1234');
      expect(await again.readTerminalIds()).toEqual(['123', '456']);
    });
  });
});

describe('UiccSession on the real-card profiles of issue 14', () => {
  const disabled = { enabled: false, verified: true, retriesLeft: 3, blocked: false, pukRetriesLeft: 10 };

  it.each([
    ['3G, USIM-only, SJA2 ADF FCP without 83', { classes: 'usim-only', adfFcpWithoutFileId: true }, 'usim'],
    ['3G, both classes, SJA2 ADF FCP without 83', { adfFcpWithoutFileId: true }, 'usim'],
    ['2G only', { classes: 'sim-only' }, 'sim'],
  ] as const)('PIN1 disabled, %s: no PIN needed, nothing presented', async (_name, mode, application) => {
    const { session, transport, card } = await open({ ...mode, pin1Enabled: false });
    expect(session.application).toBe(application);
    expect(await session.pinStatus()).toEqual(disabled);
    expect(await session.imsi()).toBe(IMSI);
    transport.reset();
    expect(await session.verifyPin('0000')).toEqual({ status: 'disabled' });
    expect(transport.log.some((x) => x.command[1] === 0x20)).toBe(false);
    expect(card.snapshot().pinRetriesLeft).toBe(3);
  });

  it('a USIM-only card with the SJA2 ADF FCP opens as a USIM (before: no 83 → probe failed → CLA A0 → 6E00)', async () => {
    const { session } = await open({ classes: 'usim-only', adfFcpWithoutFileId: true });
    expect(session.application).toBe('usim');
    expect(await session.verifyPin('0000')).toEqual({ status: 'wrong', retriesLeft: 2 });
    expect(await session.verifyPin('1234')).toEqual({ status: 'ok' });
    expect(await session.imsi()).toBe(IMSI);
  });

  it("a listed USIM whose FCP does not decode, on a card without 2G: the decoding error ('bad-response'), not 'card-error'", async () => {
    const card = new VirtualUicc({ iccid: ICCID, imsi: IMSI, classes: 'usim-only' });
    const broken = {
      transmit: async (apdu: Uint8Array) => {
        const r = card.process(apdu);
        // SELECT by AID: cut the FCP's length byte to nonsense, as a broken card might.
        return apdu[1] === 0xa4 && apdu[2] === 0x04 ? Uint8Array.of(0x62, 0x7f, ...r.subarray(-2)) : r;
      },
    };
    await expect(UiccSession.open(broken, card.powerOn())).rejects.toMatchObject({ kind: 'bad-response' });
  });

  it('PUK tries come from UNBLOCK PIN without data (3G) and byte 20 (2G), costing none', async () => {
    for (const classes of ['usim-only', 'sim-only'] as const) {
      const { session, card } = await open({ classes });
      await session.unblockPin('87654321', '1234');
      expect(await session.pinStatus()).toMatchObject({ pukRetriesLeft: 9 });
      expect(card.snapshot().pukRetriesLeft).toBe(9);
    }
  });
});

describe('UiccSession protocol traces', () => {
  it('t0GetResponse: fetches FCPs through 61xx + GET RESPONSE', async () => {
    const { session, transport } = await open({ t0GetResponse: true });
    transport.reset();
    await session.iccid();
    const trace = transport.log.map((x) => toHex(x.command));
    expect(trace).toEqual([
      '00A4000C023F00',
      '00A40004022FE200',
      expect.stringMatching(/^00C00000/),
      '00B000000A',
    ]);
  });

  it('sim-only: the CLA 00 probe gets 6E00, then the session speaks CLA A0 with 9Fxx', async () => {
    const { transport } = await open({ classes: 'sim-only' });
    expect(sws(transport)[0]).toBe('6E00');
    const last = transport.log.slice(-2).map((x) => [toHex(x.command), toHex(x.response.subarray(-2))]);
    expect(last).toEqual([
      ['A0A40000023F00', '9F17'],
      ['A0C0000017', '9000'],
    ]);
  });

  it('2G and 3G sessions on the same profile give the same identities', async () => {
    const results = [];
    for (const classes of ['sim-only', 'usim-only'] as const) {
      const { session } = await open({ classes });
      await session.verifyPin('1234');
      results.push([session.application, await session.iccid(), await session.imsi()]);
    }
    expect(results).toEqual([
      ['sim', ICCID, IMSI],
      ['usim', ICCID, IMSI],
    ]);
  });
});

describe('UiccSession argument checks touch nothing', () => {
  it("verifyPin / unblockPin reject non-digit or badly sized codes with 'bad-argument', sending no APDU", async () => {
    const { session, transport, card } = await open();
    transport.reset();
    for (const pin of ['', '123', '123456789', '12a4', ' 1234']) {
      await expect(session.verifyPin(pin)).rejects.toMatchObject({ kind: 'bad-argument' });
    }
    await expect(session.unblockPin('1234567', '1234')).rejects.toMatchObject({ kind: 'bad-argument' });
    await expect(session.unblockPin('12345678', '12')).rejects.toMatchObject({ kind: 'bad-argument' });
    expect(transport.log).toEqual([]);
    expect(card.snapshot().pinRetriesLeft).toBe(3);
  });

  it("proprietary file: more IDs than records is 'no-space', an unstorable ID 'bad-argument'; the card is unchanged", async () => {
    const { session, card } = await open();
    await session.verifyPin('1234');
    await session.writeTerminalIds(['a', 'b']);
    const before = card.snapshot();
    const nine = Array.from({ length: 9 }, (_, i) => `t${i}`);
    await expect(session.writeTerminalIds(nine)).rejects.toMatchObject({ kind: 'no-space' });
    await expect(session.writeTerminalIds(['ok', 'x'.repeat(33)])).rejects.toMatchObject({
      kind: 'bad-argument',
    });
    expect(card.snapshot()).toEqual(before);
    const eight = nine.slice(0, 8);
    await session.writeTerminalIds(eight);
    expect(await session.readTerminalIds()).toEqual(eight);
  });
});

describe('EF_ADN fallback keeps the user’s phonebook intact', () => {
  const phonebook = [
    { name: 'Mum', number: '0123456789' },
    { name: '', number: '112' },
    { name: 'Dad', number: '0049301234' },
  ];

  it('writes only into free records and leaves every user record byte-identical', async () => {
    const { session, card } = await open({ terminalIdFile: false, adnRecords: 6, phonebook });
    const userRecords = card.snapshot().adnRecords.slice(0, 3);
    await session.verifyPin('1234');
    await session.writeTerminalIds(['111', '222', '333']);
    const after = card.snapshot().adnRecords;
    expect(after.slice(0, 3)).toEqual(userRecords);
    expect(readIdList(after, adnTerminalIdCodec)).toEqual(['111', '222', '333']);
    expect(await session.readTerminalIds()).toEqual(['111', '222', '333']);
  });

  it('shrinking the list empties our no-longer-needed records (all FF)', async () => {
    const { session, card } = await open({ terminalIdFile: false, adnRecords: 6, phonebook });
    await session.verifyPin('1234');
    await session.writeTerminalIds(['111', '222', '333']);
    await session.writeTerminalIds(['222']);
    const after = card.snapshot().adnRecords;
    expect(after.slice(3).filter((r) => r.every((b) => b === 0xff)).length).toBe(2);
    expect(await session.readTerminalIds()).toEqual(['222']);
    await session.writeTerminalIds([]);
    expect(
      card
        .snapshot()
        .adnRecords.slice(3)
        .every((r) => r.every((b) => b === 0xff)),
    ).toBe(true);
  });

  it("'no-space' when the free records are too few, changing nothing", async () => {
    const { session, card } = await open({ terminalIdFile: false, adnRecords: 5, phonebook });
    await session.verifyPin('1234');
    await session.writeTerminalIds(['111']);
    const before = card.snapshot();
    await expect(session.writeTerminalIds(['111', '222', '333'])).rejects.toMatchObject({ kind: 'no-space' });
    expect(card.snapshot()).toEqual(before);
    await session.writeTerminalIds(['111', '222']);
    expect(await session.readTerminalIds()).toEqual(['111', '222']);
  });

  it("IDs outside 0-9 * # are 'bad-argument' in this storage, changing nothing", async () => {
    const { session, card } = await open({ terminalIdFile: false, phonebook });
    await session.verifyPin('1234');
    const before = card.snapshot();
    await expect(session.writeTerminalIds(['123', 'pi-kitchen'])).rejects.toMatchObject({
      kind: 'bad-argument',
    });
    expect(card.snapshot()).toEqual(before);
  });

  it("a phonebook with no free record is 'no-space' even for one ID", async () => {
    const { session } = await open({ terminalIdFile: false, adnRecords: 3, phonebook });
    await session.verifyPin('1234');
    await expect(session.writeTerminalIds(['1'])).rejects.toMatchObject({ kind: 'no-space' });
    expect(await session.readTerminalIds()).toEqual([]);
  });
});

describe('UiccSession lifecycle', () => {
  it('serialises concurrent calls so their SELECTs do not interleave', async () => {
    const { session } = await open({ t0GetResponse: true });
    await session.verifyPin('1234');
    await session.writeTerminalIds(['77']);
    const [iccid, imsi, ids, status] = await Promise.all([
      session.iccid(),
      session.imsi(),
      session.readTerminalIds(),
      session.pinStatus(),
    ]);
    expect([iccid, imsi, ids, status]).toEqual([
      ICCID,
      IMSI,
      ['77'],
      { enabled: true, verified: true, retriesLeft: 3, blocked: false, pukRetriesLeft: 10 },
    ]);
  });

  it("rejects every call with 'closed' after close(), which is idempotent", async () => {
    const { session } = await open();
    await session.close();
    await session.close();
    await expect(session.iccid()).rejects.toMatchObject({ kind: 'closed' });
    await expect(session.transmit(Uint8Array.of(0, 0xb0, 0, 0, 1))).rejects.toMatchObject({ kind: 'closed' });
  });

  it('transmit passes raw bytes both ways, without GET RESPONSE handling', async () => {
    const { session } = await open({ t0GetResponse: true });
    const r = await session.transmit(Uint8Array.of(0x00, 0xa4, 0x00, 0x04, 0x02, 0x3f, 0x00, 0x00));
    expect(toHex(r)).toMatch(/^61/);
    expect(await session.iccid()).toBe(ICCID); // the session re-selects from the MF
  });

  it("a card that answers neither class is 'card-error'", async () => {
    const mute = { transmit: async () => Uint8Array.of(0x6d, 0x00) };
    await expect(UiccSession.open(mute, new Uint8Array(0))).rejects.toMatchObject({
      kind: 'card-error',
      sw: 0x6d00,
    });
  });

  it('transport failures pass through unchanged', async () => {
    const boom = new Error('card removed');
    const broken = { transmit: async () => Promise.reject(boom) };
    await expect(UiccSession.open(broken, new Uint8Array(0))).rejects.toBe(boom);
  });

  it('keeps a copy of the ATR', async () => {
    const { session, card } = await open();
    expect(toHex(session.atr)).toBe(toHex(card.powerOn()));
  });
});
