import { describe, expect, it } from 'vitest';
import { toHex } from './hex.js';
import { RecordingTransport } from './recording-transport.js';
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
/** EF_ADN under DF_TELECOM (TS 51.011 §10.5.1): X = 14 alpha bytes + 14 on the virtual card. */
const EF_ADN = [0x3f00, 0x7f10, 0x6f3a] as const;

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
    await session.readRecords(EF_ADN);
    expect(sws(transport).filter((sw) => /^(6C|67)/.test(sw))).toEqual([]);
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
});

describe('UiccSession record file access', () => {
  it('reads every record of an EF and updates one whole record, selecting from the MF each time', async () => {
    const { session } = await open({ adnRecords: 4 });
    await expect(session.readRecords(EF_ADN)).rejects.toMatchObject({ kind: 'pin-required', sw: 0x6982 });
    await session.verifyPin('1234');
    const before = await session.readRecords(EF_ADN);
    expect(before.map((r) => r.length)).toEqual([28, 28, 28, 28]);
    const record = Uint8Array.from({ length: 28 }, (_, i) => (i < 3 ? 0x30 + i : 0xff));
    await session.updateRecord(EF_ADN, 4, record);
    expect(await session.readRecords(EF_ADN)).toEqual([...before.slice(0, 3), record]);
  });

  it("a missing EF is 'not-found' with its SW (3G 6A82, 2G 9404)", async () => {
    for (const [classes, sw] of [
      ['both', 0x6a82],
      ['sim-only', 0x9404],
    ] as const) {
      const { session } = await open({ classes, terminalIdFile: false });
      await expect(session.readRecords([0x3f00, 0x7fde, 0x6f01])).rejects.toMatchObject({
        kind: 'not-found',
        sw,
      });
    }
  });

  it("a path not from the MF, a record the EF lacks or data of the wrong length is 'bad-argument', with no UPDATE sent", async () => {
    const { session, transport, card } = await open({ adnRecords: 4 });
    await session.verifyPin('1234');
    const before = card.snapshot().adnRecords;
    transport.reset();
    const ok = new Uint8Array(28).fill(0x41);
    for (const call of [
      () => session.readRecords([]),
      () => session.readRecords([0x7f10, 0x6f3a]),
      () => session.readRecords([0x3f00, 0x1_0000]),
      () => session.updateRecord([0x7f10, 0x6f3a], 1, ok),
    ]) {
      await expect(call()).rejects.toMatchObject({ kind: 'bad-argument' });
    }
    expect(transport.log).toEqual([]);
    for (const call of [
      () => session.updateRecord(EF_ADN, 0, ok),
      () => session.updateRecord(EF_ADN, 5, ok),
      () => session.updateRecord(EF_ADN, 1.5, ok),
      () => session.updateRecord(EF_ADN, 1, new Uint8Array(27)),
      () => session.updateRecord([0x3f00, 0x2fe2], 1, ok),
    ]) {
      await expect(call()).rejects.toMatchObject({ kind: 'bad-argument' });
    }
    expect(transport.log.filter((x) => x.command[1] === 0xdc)).toEqual([]);
    expect(card.snapshot().adnRecords).toEqual(before);
  });
});

describe('UiccSession lifecycle', () => {
  it('serialises concurrent calls so their SELECTs do not interleave', async () => {
    const { session } = await open({ t0GetResponse: true });
    await session.verifyPin('1234');
    const record = Uint8Array.from({ length: 28 }, (_, i) => (i === 0 ? 0x41 : 0xff));
    await session.updateRecord(EF_ADN, 1, record);
    const [iccid, imsi, records, status] = await Promise.all([
      session.iccid(),
      session.imsi(),
      session.readRecords(EF_ADN),
      session.pinStatus(),
    ]);
    expect([iccid, imsi, records[0], status]).toEqual([
      ICCID,
      IMSI,
      record,
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
