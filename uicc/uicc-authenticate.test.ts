import { describe, expect, it } from 'vitest';
import { answerChallenge, generateVector, resMatches } from './aka/challenge.js';
import { gsmKc, gsmSres, Milenage } from './aka/milenage.js';
import { AucSqn, resyncFromAuts, UsimSqnArray } from './aka/sqn.js';
import { parseAuthenticate3g, parseAuthenticateGsm, parseRunGsmAlgorithm } from './auth-operations.js';
import { fromHex, toHex } from './hex.js';
import { RecordingTransport } from './recording-transport.js';
import { UiccSession } from './uicc-session.js';
import type { VirtualUiccProfile } from './virtual-profile.js';
import { VirtualUicc } from './virtual-uicc.js';

/** TS 35.208 Test Set 1's K and OPc (see aka/milenage.test.ts for the origin). */
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const network = new Milenage(fromHex(K), fromHex(OPC));
const RAND = fromHex('23553cbe9637a89d218ae64dae47bf35');
const randOf = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (n * 13 + i * 29) & 0xff);
const hex = (b: Uint8Array) => toHex(b).toLowerCase();

type Rewrite = (command: Uint8Array, response: Uint8Array) => Uint8Array;

async function open(extra: Partial<VirtualUiccProfile> = {}, rewrite?: Rewrite) {
  const card = new VirtualUicc({
    iccid: '8988211000000430010',
    imsi: '001010000000102',
    k: K,
    opc: OPC,
    ...extra,
  });
  const transport = new RecordingTransport({
    transmit: async (apdu) => {
      const response = card.process(apdu);
      return rewrite ? rewrite(apdu, response) : response;
    },
  });
  const session = await UiccSession.open(transport, card.powerOn());
  return { card, transport, session };
}

const modes: [string, Partial<VirtualUiccProfile>][] = [
  ['default card (both classes, a USIM)', {}],
  ['t0GetResponse', { t0GetResponse: true }],
  ['strictLe', { strictLe: true }],
  ['usim-only', { classes: 'usim-only' }],
];

describe.each(modes)('AUTHENTICATE 3G context (TS 31.102 §7.1.2.1) on a %s card', (_name, mode) => {
  it('a fresh challenge: RES = XRES, CK and IK match, Kc = c3(CK, IK)', async () => {
    const { session, transport } = await open(mode);
    expect(await session.verifyPin('1234')).toEqual({ status: 'ok' });
    const vector = generateVector(network, randOf(1), new AucSqn().next());
    const result = await session.authenticate(vector.rand, vector.autn);
    expect(result.status).toBe('ok');
    if (result.status !== 'ok') return;
    expect(resMatches(vector, result.res)).toBe(true);
    expect(hex(result.ck)).toBe(hex(vector.ck));
    expect(hex(result.ik)).toBe(hex(vector.ik));
    expect(hex(result.kc!)).toBe(hex(gsmKc(vector.ck, vector.ik)));
    // 00 88 00 81 22 10 RAND 10 AUTN 00 on the wire.
    const sent = transport.log.map((x) => toHex(x.command)).find((c) => c.startsWith('008800'));
    expect(sent).toBe(`0088008122 10${toHex(vector.rand)}10${toHex(vector.autn)}00`.replace(/ /g, ''));
  });

  it('a replayed challenge: sync failure whose AUTS resyncs the network; a card with another K: mac-failure', async () => {
    const { session, card } = await open(mode);
    await session.verifyPin('1234');
    const auc = new AucSqn();
    const vector = generateVector(network, randOf(2), auc.next());
    expect((await session.authenticate(vector.rand, vector.autn)).status).toBe('ok');
    const replay = await session.authenticate(vector.rand, vector.autn);
    expect(replay.status).toBe('sync-failure');
    if (replay.status !== 'sync-failure') return;
    expect(resyncFromAuts(network, vector.rand, replay.auts)).toEqual({ status: 'ok', sqnMs: vector.sqn });
    expect(card.snapshot().seqMs![vector.sqn % 32]).toBe(Math.floor(vector.sqn / 32));

    const other = await open({ ...mode, k: '00112233445566778899aabbccddeeff' });
    await other.session.verifyPin('1234');
    expect(
      await other.session.authenticate(vector.rand, generateVector(network, randOf(3), auc.next()).autn),
    ).toEqual({ status: 'mac-failure' });
    expect(other.card.snapshot().seqMs!.every((s) => s === 0)).toBe(true);
  });

  it('needs PIN1 (6982 → pin-required) and 16-byte RAND and AUTN (bad-argument, nothing sent)', async () => {
    const { session, transport } = await open(mode);
    const vector = generateVector(network, randOf(4), 33);
    await expect(session.authenticate(vector.rand, vector.autn)).rejects.toMatchObject({
      kind: 'pin-required',
      sw: 0x6982,
    });
    const before = transport.log.length;
    await expect(session.authenticate(vector.rand.subarray(1), vector.autn)).rejects.toMatchObject({
      kind: 'bad-argument',
    });
    await expect(session.authenticate(vector.rand, new Uint8Array(17))).rejects.toMatchObject({
      kind: 'bad-argument',
    });
    expect(transport.log.length).toBe(before);
  });

  it('GSM context on a USIM (00 88 00 80 11 10 RAND): SRES = c2(RES), Kc = c3(CK, IK)', async () => {
    const { session } = await open(mode);
    await session.verifyPin('1234');
    const { res, ck, ik } = network.f2345(RAND);
    expect(await session.runGsmAlgorithm(RAND)).toEqual({ sres: gsmSres(res), kc: gsmKc(ck, ik) });
  });
});

describe('RUN GSM ALGORITHM (TS 51.011 §9.2.16) on a 2G SIM', () => {
  it('A0 88 00 00 10 RAND answers 9F0C; GET RESPONSE gives SRES ‖ Kc (c2/c3 of Milenage)', async () => {
    const { session, transport } = await open({ classes: 'sim-only' });
    expect(session.application).toBe('sim');
    await expect(session.runGsmAlgorithm(RAND)).rejects.toMatchObject({ kind: 'pin-required', sw: 0x9804 });
    await session.verifyPin('1234');
    const { res, ck, ik } = network.f2345(RAND);
    // TS 55.205 Test Set 1: SRES 46f8416a, Kc eae4be823af9a08b.
    expect(await session.runGsmAlgorithm(RAND)).toEqual({
      sres: fromHex('46f8416a'),
      kc: fromHex('eae4be823af9a08b'),
    });
    expect(hex(gsmSres(res))).toBe('46f8416a');
    expect(hex(gsmKc(ck, ik))).toBe('eae4be823af9a08b');
    const last = transport.log.slice(-2).map((x) => [toHex(x.command), toHex(x.response.subarray(-2))]);
    expect(last).toEqual([
      [`A088000010${toHex(RAND)}`, '9F0C'],
      ['A0C000000C', '9000'],
    ]);
  });

  it('a 2G SIM has no USIM AKA: authenticate is bad-argument before anything is sent', async () => {
    const { session, transport } = await open({ classes: 'sim-only' });
    await session.verifyPin('1234');
    const before = transport.log.length;
    const vector = generateVector(network, randOf(5), 33);
    await expect(session.authenticate(vector.rand, vector.autn)).rejects.toMatchObject({
      kind: 'bad-argument',
    });
    expect(transport.log.length).toBe(before);
  });
});

describe('a card without K, and the card state', () => {
  it('answers AUTHENTICATE and RUN GSM ALGORITHM 6D00 (instruction not supported)', async () => {
    const usim = await open({ k: undefined, opc: undefined });
    await usim.session.verifyPin('1234');
    const vector = generateVector(network, randOf(6), 33);
    await expect(usim.session.authenticate(vector.rand, vector.autn)).rejects.toMatchObject({
      kind: 'card-error',
      sw: 0x6d00,
    });
    const sim = await open({ k: undefined, opc: undefined, classes: 'sim-only' });
    await sim.session.verifyPin('1234');
    await expect(sim.session.runGsmAlgorithm(RAND)).rejects.toMatchObject({ kind: 'card-error', sw: 0x6d00 });
    expect(usim.card.snapshot().seqMs).toBeUndefined();
  });

  it('keeps SEQ_MS across power cycles, and a card restored from snapshot().seqMs still refuses the replay', async () => {
    const { session, card } = await open();
    await session.verifyPin('1234');
    const vector = generateVector(network, randOf(7), new AucSqn({ seq: 1000, ind: 4 }).next());
    expect((await session.authenticate(vector.rand, vector.autn)).status).toBe('ok');
    card.powerOff();
    const again = await UiccSession.open({ transmit: async (a) => card.process(a) }, card.powerOn());
    await again.verifyPin('1234');
    expect((await again.authenticate(vector.rand, vector.autn)).status).toBe('sync-failure');
    const restored = await open({ seqMs: card.snapshot().seqMs! });
    await restored.session.verifyPin('1234');
    expect((await restored.session.authenticate(vector.rand, vector.autn)).status).toBe('sync-failure');
  });

  it('derives OPc from OP, and refuses a key without its OPc/OP or with both', async () => {
    const { session } = await open({ opc: undefined, op: OP });
    await session.verifyPin('1234');
    const vector = generateVector(network, randOf(8), 33);
    expect((await session.authenticate(vector.rand, vector.autn)).status).toBe('ok');
    const base = { iccid: '8988211000000430010', imsi: '001010000000102' };
    for (const bad of [{ k: K }, { k: K, opc: OPC, op: OP }, { opc: OPC }, { k: 'abcd', opc: OPC }]) {
      expect(() => new VirtualUicc({ ...base, ...bad })).toThrow(
        expect.objectContaining({ kind: 'bad-argument' }),
      );
    }
  });

  it('the card side matches the pure answerChallenge for the same inputs', () => {
    const vector = generateVector(network, randOf(9), 65);
    const answer = answerChallenge(network, new UsimSqnArray(), vector.rand, vector.autn);
    expect(answer.status).toBe('ok');
  });
});

describe('AUTHENTICATE answers read strictly (TS 31.102 §7.1.2.1)', () => {
  const ck = '00'.repeat(16);
  const ik = '11'.repeat(16);
  const ok = (data: string) => ({ data: fromHex(data), sw: 0x9000 });

  it('DB with RES of 4–16 bytes, CK, IK, and Kc when present', () => {
    expect(parseAuthenticate3g(ok(`DB04A1B2C3D410${ck}10${ik}`))).toEqual({
      status: 'ok',
      res: fromHex('A1B2C3D4'),
      ck: fromHex(ck),
      ik: fromHex(ik),
    });
    const withKc = parseAuthenticate3g(ok(`DB08${'22'.repeat(8)}10${ck}10${ik}08${'33'.repeat(8)}`));
    expect(withKc).toMatchObject({ status: 'ok', kc: fromHex('33'.repeat(8)) });
  });

  it('DC 0E AUTS is a sync failure; SW 9862 a MAC failure; 6982 pin-required', () => {
    expect(parseAuthenticate3g(ok(`DC0E${'44'.repeat(14)}`))).toEqual({
      status: 'sync-failure',
      auts: fromHex('44'.repeat(14)),
    });
    expect(parseAuthenticate3g({ data: new Uint8Array(0), sw: 0x9862 })).toEqual({ status: 'mac-failure' });
    expect(() => parseAuthenticate3g({ data: new Uint8Array(0), sw: 0x6982 })).toThrow(
      expect.objectContaining({ kind: 'pin-required' }),
    );
  });

  it.each([
    ['empty', ''],
    ['unknown tag', `DA04A1B2C3D410${ck}10${ik}`],
    ['RES of 3 bytes', `DB03A1B2C310${ck}10${ik}`],
    ['IK missing', `DB04A1B2C3D410${ck}`],
    ['CK of 15 bytes', `DB04A1B2C3D40F${ck.slice(2)}10${ik}`],
    ['Kc of 7 bytes', `DB04A1B2C3D410${ck}10${ik}07${'33'.repeat(7)}`],
    ['bytes after Kc', `DB04A1B2C3D410${ck}10${ik}08${'33'.repeat(8)}00`],
    ['AUTS of 13 bytes', `DC0D${'44'.repeat(13)}`],
    ['bytes after AUTS', `DC0E${'44'.repeat(15)}`],
  ])('%s → bad-response', (_name, data) => {
    expect(() => parseAuthenticate3g(ok(data))).toThrow(expect.objectContaining({ kind: 'bad-response' }));
  });

  it('GSM answers: 04 SRES 08 Kc (USIM) and SRES ‖ Kc (2G); anything else bad-response', () => {
    expect(parseAuthenticateGsm(ok(`04A1B2C3D408${'33'.repeat(8)}`))).toEqual({
      sres: fromHex('A1B2C3D4'),
      kc: fromHex('33'.repeat(8)),
    });
    expect(() => parseAuthenticateGsm(ok(`04A1B2C3D407${'33'.repeat(7)}`))).toThrow(
      expect.objectContaining({ kind: 'bad-response' }),
    );
    expect(parseRunGsmAlgorithm(ok(`A1B2C3D4${'33'.repeat(8)}`)).sres).toEqual(fromHex('A1B2C3D4'));
    expect(() => parseRunGsmAlgorithm(ok('A1B2C3D4'))).toThrow(
      expect.objectContaining({ kind: 'bad-response' }),
    );
  });

  it('a malformed answer through a session is bad-response, and the next call works (nothing changed)', async () => {
    let mangle = true;
    const { session } = await open({}, (command, response) =>
      mangle && command[1] === 0x88 && response[0] === 0xdb
        ? Uint8Array.of(0xdb, 0x08, 0x90, 0x00)
        : response,
    );
    await session.verifyPin('1234');
    const auc = new AucSqn();
    const first = generateVector(network, randOf(10), auc.next());
    await expect(session.authenticate(first.rand, first.autn)).rejects.toMatchObject({
      kind: 'bad-response',
    });
    mangle = false;
    const vector = generateVector(network, randOf(11), auc.next());
    expect((await session.authenticate(vector.rand, vector.autn)).status).toBe('ok');
  });
});
