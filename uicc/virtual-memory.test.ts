import { describe, expect, it } from 'vitest';
import { generateVector } from './aka/challenge.js';
import { Milenage } from './aka/milenage.js';
import { AucSqn } from './aka/sqn.js';
import { UiccError } from './errors.js';
import { fromHex, toHex } from './hex.js';
import { directTransport } from './recording-transport.js';
import { readTerminalIds, writeTerminalIds } from './terminal-id-list.js';
import { UiccSession } from './uicc-session.js';
import type { VirtualCardMemory } from './virtual-memory.js';
import type { VirtualUiccProfile } from './virtual-profile.js';
import { VirtualUicc } from './virtual-uicc.js';

/**
 * A real SIM keeps its EEPROM from one session to the next: the files,
 * PIN1/PUK with their counters, the PIN1 enabled flag and the SEQ_MS array
 * of TS 33.102 Annex C.2. VirtualUicc hands that memory out as JSON and
 * starts from it again.
 */
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const PROFILE: VirtualUiccProfile = { iccid: '8988211000000430010', imsi: '001010000000102', k: K, opc: OPC };
const ADN = [0x3f00, 0x7f10, 0x6f3a] as const;
const network = new Milenage(fromHex(K), fromHex(OPC));
const RAND = fromHex('23553cbe9637a89d218ae64dae47bf35');

async function sessionOn(card: VirtualUicc): Promise<UiccSession> {
  return UiccSession.open(directTransport(card), card.powerOn());
}

/** The memory after JSON, as a file gives it back. */
const throughJson = (card: VirtualUicc): VirtualCardMemory => JSON.parse(JSON.stringify(card.memory()));

function refusal(memory: unknown, profile: VirtualUiccProfile = PROFILE): UiccError {
  try {
    new VirtualUicc(profile, memory as VirtualCardMemory);
  } catch (e) {
    expect(e).toBeInstanceOf(UiccError);
    return e as UiccError;
  }
  throw new Error('the memory was accepted');
}

/** A card that lived a little: a PIN changed with the PUK, a wrong PUK, a wrong PIN, a contact, a terminal ID, an AKA run. */
async function usedCard(): Promise<VirtualUicc> {
  const card = new VirtualUicc(PROFILE);
  const s = await sessionOn(card);
  expect(await s.unblockPin('12345678', '5555')).toEqual({ status: 'ok' });
  expect(await s.unblockPin('00000000', '6666')).toMatchObject({ status: 'wrong', retriesLeft: 9 });
  const contact = (await s.readRecords(ADN))[0]!.slice();
  contact.set([0x41, 0x6c, 0x69, 0x63, 0x65]);
  await s.updateRecord(ADN, 1, contact);
  await writeTerminalIds(s, ['pc-kitchen']);
  const vector = generateVector(network, RAND, new AucSqn().next());
  expect((await s.authenticate(vector.rand, vector.autn)).status).toBe('ok');
  expect(await s.verifyPin('0000')).toMatchObject({ status: 'wrong', retriesLeft: 2 });
  await s.close();
  card.powerOff();
  return card;
}

describe('VirtualUicc memory: what a real card keeps between sessions', () => {
  it('round trip: every field of the memory survives JSON and a restore', async () => {
    const card = await usedCard();
    const memory = throughJson(card);
    expect(memory).toMatchObject({
      version: 1,
      iccid: PROFILE.iccid,
      imsi: PROFILE.imsi,
      pin1: { block: '35353535FFFFFFFF', retriesLeft: 2, enabled: true },
      puk1: { block: '3132333435363738', retriesLeft: 9 },
    });
    expect(Object.keys(memory.records).sort()).toEqual(['3F00/7F10/6F3A', '3F00/7FDE/6F01']);
    expect(memory.records['3F00/7F10/6F3A']).toHaveLength(20);
    expect(memory.records['3F00/7F10/6F3A']![0]).toMatch(/^416C696365/);
    expect(memory.seqMs!.some((s) => s > 0)).toBe(true);

    const restored = new VirtualUicc(PROFILE, memory);
    expect(restored.memory()).toEqual(memory);
    const before = card.snapshot();
    const after = restored.snapshot();
    for (const field of ['pinEnabled', 'pinRetriesLeft', 'pukRetriesLeft', 'seqMs'] as const) {
      expect(after[field]).toEqual(before[field]);
    }
    expect(toHex(after.pinBlock)).toBe(toHex(before.pinBlock));
    expect(after.adnRecords.map(toHex)).toEqual(before.adnRecords.map(toHex));
    expect(after.terminalIdRecords!.map(toHex)).toEqual(before.terminalIdRecords!.map(toHex));

    // And the card acts on it: the changed PIN, the FIG. 11-A list, the contact.
    const s = await sessionOn(restored);
    expect(await s.pinStatus()).toMatchObject({ retriesLeft: 2, pukRetriesLeft: 9, verified: false });
    expect(await s.verifyPin('1234')).toMatchObject({ status: 'wrong', retriesLeft: 1 });
    expect(await s.verifyPin('5555')).toEqual({ status: 'ok' });
    expect(await readTerminalIds(s)).toEqual(['pc-kitchen']);
    expect(toHex((await s.readRecords(ADN))[0]!)).toMatch(/^416C696365/);
  });

  it('PIN1 disabled is EEPROM: a memory of a disabled PIN stays disabled under a profile that enables it', () => {
    const memory = throughJson(new VirtualUicc({ ...PROFILE, pin1Enabled: false }));
    expect(memory.pin1.enabled).toBe(false);
    expect(new VirtualUicc({ ...PROFILE, pin1Enabled: true }, memory).snapshot().pinEnabled).toBe(false);
  });

  it('a blocked PIN stays blocked across a restore; only the PUK opens it', async () => {
    const card = new VirtualUicc(PROFILE);
    const s = await sessionOn(card);
    for (const left of [2, 1]) expect(await s.verifyPin('0000')).toMatchObject({ retriesLeft: left });
    expect(await s.verifyPin('0000')).toEqual({ status: 'blocked' });
    const restored = new VirtualUicc(PROFILE, throughJson(card));
    const again = await sessionOn(restored);
    expect(await again.pinStatus()).toMatchObject({ blocked: true, retriesLeft: 0 });
    expect(await again.verifyPin('1234')).toEqual({ status: 'blocked' });
    expect(await again.unblockPin('12345678', '4321')).toEqual({ status: 'ok' });
    expect(await again.verifyPin('4321')).toEqual({ status: 'ok' });
  });

  it('TS 33.102 Annex C.2: SEQ_MS survive, so an AUTN replayed after the restore gets a sync failure', async () => {
    const vector = generateVector(network, RAND, new AucSqn().next());
    const card = new VirtualUicc(PROFILE);
    const s = await sessionOn(card);
    await s.verifyPin('1234');
    expect((await s.authenticate(vector.rand, vector.autn)).status).toBe('ok');

    const restored = await sessionOn(new VirtualUicc(PROFILE, throughJson(card)));
    await restored.verifyPin('1234');
    expect((await restored.authenticate(vector.rand, vector.autn)).status).toBe('sync-failure');
    // The forgetful card the CLI had before accepts the replay.
    const fresh = await sessionOn(new VirtualUicc(PROFILE));
    await fresh.verifyPin('1234');
    expect((await fresh.authenticate(vector.rand, vector.autn)).status).toBe('ok');
  });

  it('SEQ_MS of a memory restored without K are kept for when K is given again', async () => {
    const card = new VirtualUicc(PROFILE);
    const s = await sessionOn(card);
    await s.verifyPin('1234');
    await s.authenticate(RAND, generateVector(network, RAND, new AucSqn().next()).autn);
    const seqMs = card.memory().seqMs;
    const { k: _k, opc: _opc, ...withoutK } = PROFILE;
    const keyless = new VirtualUicc(withoutK, throughJson(card));
    expect(keyless.snapshot().seqMs).toBeUndefined();
    expect(new VirtualUicc(PROFILE, throughJson(keyless)).memory().seqMs).toEqual(seqMs);
  });
});

describe('VirtualUicc memory: a damaged or mismatched memory is refused whole', () => {
  const good = () => throughJson(new VirtualUicc(PROFILE));
  const cases: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
    ['not an object', () => 'memory', /not an object/],
    ['another version', (m) => ({ ...m, version: 2 }), /version 2/],
    ['another ICCID', (m) => ({ ...m, iccid: '8988211000000430028' }), /ICCID 8988211000000430028/],
    ['another IMSI', (m) => ({ ...m, imsi: '001010000000999' }), /IMSI 001010000000999/],
    ['PIN1 tries above 3', (m) => ({ ...m, pin1: { ...(m.pin1 as object), retriesLeft: 4 } }), /PIN1 tries/],
    [
      'PUK1 tries negative',
      (m) => ({ ...m, puk1: { ...(m.puk1 as object), retriesLeft: -1 } }),
      /PUK1 tries/,
    ],
    [
      'a PIN block of 7 bytes',
      (m) => ({ ...m, pin1: { ...(m.pin1 as object), block: '31323334FFFFFF' } }),
      /PIN1 block/,
    ],
    [
      'PIN1 enabled missing',
      (m) => ({ ...m, pin1: { block: '31323334FFFFFFFF', retriesLeft: 3 } }),
      /enabled/,
    ],
    ['no PUK', ({ puk1: _p, ...m }) => m, /PUK1 is missing/],
    ['no records', ({ records: _r, ...m }) => m, /records are missing/],
    [
      'an EF the card lacks',
      (m) => ({ ...m, records: { ...(m.records as object), '3F00/7F10/6F3B': [] } }),
      /EF 3F00\/7F10\/6F3B is not on this card/,
    ],
    [
      'a missing EF',
      (m) => ({
        ...m,
        records: { '3F00/7F10/6F3A': (m.records as Record<string, string[]>)['3F00/7F10/6F3A'] },
      }),
      /EF 3F00\/7FDE\/6F01 is missing/,
    ],
    ['one ADN record too few', (m) => withAdn(m, (r) => r.slice(1)), /has 19 records, the card 20/],
    [
      'an ADN record a byte short',
      (m) => withAdn(m, (r) => [r[0]!.slice(2), ...r.slice(1)]),
      /record 1 is not 28 bytes/,
    ],
    [
      'a record that is not hex',
      (m) => withAdn(m, (r) => [`ZZ${r[0]!.slice(2)}`, ...r.slice(1)]),
      /record 1 is not 28 bytes of hex/,
    ],
    ['31 SEQ_MS', (m) => ({ ...m, seqMs: new Array(31).fill(0) }), /seqMs is not 32/],
    ['a SEQ_MS above 2^43-1', (m) => ({ ...m, seqMs: [2 ** 43, ...new Array(31).fill(0)] }), /seqMs/],
  ];

  it.each(cases)('%s: UiccError bad-argument naming what does not fit', (_name, tamper, message) => {
    const e = refusal(tamper(good() as unknown as Record<string, unknown>));
    expect(e.kind).toBe('bad-argument');
    expect(e.message).toMatch(/^card memory: /);
    expect(e.message).toMatch(message);
  });

  it('a memory made for a card with more ADN records does not fit a profile with fewer', () => {
    const memory = throughJson(new VirtualUicc({ ...PROFILE, adnRecords: 30 }));
    expect(refusal(memory).message).toMatch(/has 30 records, the card 20/);
    const noIdFile = refusal(memory, { ...PROFILE, adnRecords: 30, terminalIdFile: false });
    expect(noIdFile.message).toMatch(/EF 3F00\/7FDE\/6F01 is not on this card/);
  });
});

function withAdn(m: Record<string, unknown>, change: (records: string[]) => string[]): unknown {
  const records = m.records as Record<string, string[]>;
  return { ...m, records: { ...records, '3F00/7F10/6F3A': change(records['3F00/7F10/6F3A']!) } };
}

describe('VirtualUicc generation and onChange: when there is something to save', () => {
  it('only commands that change the EEPROM count, each once, before the card answers', async () => {
    const card = new VirtualUicc(PROFILE);
    const seen: number[] = [];
    const stop = card.onChange(() => seen.push(card.generation));
    const s = await sessionOn(card);
    await s.iccid();
    await s.pinStatus();
    expect(card.generation).toBe(0);
    await s.verifyPin('1234'); // counter already full: nothing written
    expect(card.generation).toBe(0);
    await s.verifyPin('0000');
    expect(card.generation).toBe(1);
    await s.verifyPin('1234'); // the counter back to 3
    expect(card.generation).toBe(2);
    const first = (await s.readRecords(ADN))[0]!;
    await s.updateRecord(ADN, 1, first); // the same bytes again
    expect(card.generation).toBe(2);
    await writeTerminalIds(s, ['pc-1']);
    expect(card.generation).toBe(3);
    await s.authenticate(RAND, generateVector(network, RAND, new AucSqn().next()).autn);
    expect(card.generation).toBe(4);
    expect(seen).toEqual([1, 2, 3, 4]);
    stop();
    await writeTerminalIds(s, ['pc-2']);
    expect(card.generation).toBe(5);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('a listener that throws changes neither the answer nor the card', async () => {
    const card = new VirtualUicc(PROFILE);
    card.onChange(() => {
      throw new Error('disk full');
    });
    const s = await sessionOn(card);
    expect(await s.verifyPin('0000')).toMatchObject({ status: 'wrong', retriesLeft: 2 });
    expect(card.memory().pin1.retriesLeft).toBe(2);
  });
});
