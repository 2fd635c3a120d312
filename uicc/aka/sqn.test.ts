import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../hex.js';
import { answerChallenge, generateVector, resMatches } from './challenge.js';
import { Milenage } from './milenage.js';
import {
  AucSqn,
  buildAuts,
  DELTA,
  IND_COUNT,
  indOf,
  resyncFromAuts,
  seqOf,
  sqnFromBytes,
  sqnOf,
  sqnToBytes,
  UsimSqnArray,
} from './sqn.js';

const hex = (b: Uint8Array) => toHex(b).toLowerCase();

/** TS 35.208 Test Set 1 (see milenage.test.ts for the origin). */
const K = fromHex('465b5ce8b199b49faa5f0a2ee238a6bc');
const OPC = fromHex('cd63cb71954a9f4e48a5994e37a02baf');
const RAND = fromHex('23553cbe9637a89d218ae64dae47bf35');
const card = () => new Milenage(K, OPC);
const rand = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (n * 31 + i * 7) & 0xff);

describe('SQN = SEQ ‖ IND (TS 33.102 Annex C.1.2, C.2.1)', () => {
  it('IND is the 5 low bits, SEQ the 43 above; 6 bytes big-endian in AUTN', () => {
    const sqn = sqnOf(0x123456789, 17);
    expect(indOf(sqn)).toBe(17);
    expect(seqOf(sqn)).toBe(0x123456789);
    expect(sqnFromBytes(sqnToBytes(sqn))).toBe(sqn);
    expect(hex(sqnToBytes(0xff9bb4d0b607))).toBe('ff9bb4d0b607');
    expect(() => sqnToBytes(2 ** 48)).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
  });
});

describe('the card: array of SEQ_MS (TS 33.102 Annex C.2)', () => {
  it('C.2.2: accepts SEQ > SEQ_MS(IND), refuses the same SQN again', () => {
    const sqns = new UsimSqnArray();
    const sqn = sqnOf(5, 3);
    expect(sqns.verify(sqn)).toBeUndefined();
    sqns.accept(sqn);
    expect(sqns.verify(sqn)).toBe('replayed');
    expect(sqns.verify(sqnOf(4, 3))).toBe('replayed');
    expect(sqns.sqnMs).toBe(sqn);
  });

  it('C.2.2: an older SEQ is still fresh under another IND (vectors used out of order)', () => {
    const sqns = new UsimSqnArray();
    sqns.accept(sqnOf(10, 1));
    expect(sqns.verify(sqnOf(9, 2))).toBeUndefined();
    sqns.accept(sqnOf(9, 2));
    // SQN_MS stays the highest accepted.
    expect(sqns.sqnMs).toBe(sqnOf(10, 1));
    expect(sqns.seqMs().slice(0, 3)).toEqual([0, 10, 9]);
  });

  it('C.2.2: refuses SEQ − SEQ_MS > Δ = 2^28 (counter wrap protection), accepts exactly Δ', () => {
    const sqns = new UsimSqnArray();
    sqns.accept(sqnOf(100, 0));
    expect(sqns.verify(sqnOf(100 + DELTA, 1))).toBeUndefined();
    expect(sqns.verify(sqnOf(100 + DELTA + 1, 1))).toBe('too-far-ahead');
  });

  it('C.2.2: with an age limit L, refuses a SEQ more than L below the highest', () => {
    const sqns = new UsimSqnArray(undefined, { ageLimit: 5 });
    sqns.accept(sqnOf(20, 0));
    expect(sqns.verify(sqnOf(15, 1))).toBeUndefined();
    expect(sqns.verify(sqnOf(14, 1))).toBe('too-old');
  });

  it('starts from a persisted array and refuses one that is not 32 SEQs', () => {
    const seq = new Array(IND_COUNT).fill(0);
    seq[7] = 42;
    expect(new UsimSqnArray(seq).sqnMs).toBe(sqnOf(42, 7));
    expect(() => new UsimSqnArray([1, 2, 3])).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
  });
});

describe('AUTS and resynchronisation (TS 33.102 §6.3.3, §6.3.5, Annex C.3)', () => {
  it('AUTS = SQN_MS ⊕ AK* ‖ f1*(SQN_MS, RAND, AMF 0000), and the AuC recovers SQN_MS', () => {
    const m = card();
    const auts = buildAuts(m, RAND, 0xff9bb4d0b607);
    // AK* of Test Set 1 is 451e8beca43b: ff9bb4d0b607 ⊕ 451e8beca43b = ba853f3c123c.
    expect(hex(auts.subarray(0, 6))).toBe('ba853f3c123c');
    expect(hex(auts.subarray(6))).toBe(hex(m.f1star(RAND, fromHex('ff9bb4d0b607'), new Uint8Array(2))));
    expect(resyncFromAuts(m, RAND, auts)).toEqual({ status: 'ok', sqnMs: 0xff9bb4d0b607 });
  });

  it('hostapd tests/test-milenage.c (milenage_auts test): a known AUTS of Test Set 20 gives SQN_MS 1', () => {
    // From hostapd's test (vanhoefm/krackattacks-scripts, tests/test-milenage.c), on the last test set.
    const m = new Milenage(
      fromHex('90dca4eda45b53cf0f12d7c9c3bc6a89'),
      fromHex('cb9cccc4b9258e6dca4760379fb82581'),
    );
    const rand20 = fromHex('9fddc72092c6ad036b6e464789315b78');
    expect(resyncFromAuts(m, rand20, fromHex('4f2039392ddd4bb4316ed4a14688'))).toEqual({
      status: 'ok',
      sqnMs: 1,
    });
    // The same file's "AUTS from a test USIM", RAND = AA…AA: a real card's MAC-S checks.
    const real = resyncFromAuts(m, new Uint8Array(16).fill(0xaa), fromHex('43681ad3daf006bcde405a207267'));
    expect(real.status).toBe('ok');
  });

  it('refuses an AUTS with a wrong MAC-S or length, as a result, not a throw', () => {
    const m = card();
    const auts = buildAuts(m, RAND, 12345);
    auts[13]! ^= 1;
    expect(resyncFromAuts(m, RAND, auts)).toEqual({ status: 'refused', reason: 'mac-failure' });
    expect(resyncFromAuts(m, RAND, auts.subarray(0, 13))).toEqual({
      status: 'refused',
      reason: 'bad-length',
    });
    // Another RAND than the challenge's: AK* and MAC-S differ.
    expect(resyncFromAuts(m, rand(9), buildAuts(m, RAND, 12345)).status).toBe('refused');
  });

  it('C.1: the AuC increments SEQ per vector and cycles IND over the 32 entries', () => {
    const auc = new AucSqn();
    const sqns = Array.from({ length: 33 }, () => auc.next());
    expect(sqns.map(seqOf)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(sqns.map(indOf)).toEqual(Array.from({ length: 33 }, (_, i) => i % 32));
    expect(auc.state()).toEqual({ seq: 33, ind: 1 });
  });

  it('§6.3.5: resync keeps SEQ_HE when its next SQN would be accepted, else sets it to SEQ_MS', () => {
    const ahead = new AucSqn({ seq: 50, ind: 0 });
    ahead.resync(sqnOf(40, 3));
    expect(ahead.state().seq).toBe(50);
    const behind = new AucSqn({ seq: 10, ind: 0 });
    behind.resync(sqnOf(40, 3));
    expect(behind.state().seq).toBe(40);
    expect(seqOf(behind.next())).toBe(41);
  });
});

describe('one AKA run end to end (TS 33.102 §6.3): the AuC challenges, the USIM answers', () => {
  it('RES equals XRES, CK/IK match, and the card accepts the SQN', () => {
    const auc = new AucSqn();
    const usim = new UsimSqnArray();
    const vector = generateVector(card(), rand(1), auc.next());
    const answer = answerChallenge(card(), usim, vector.rand, vector.autn);
    expect(answer.status).toBe('ok');
    if (answer.status !== 'ok') return;
    expect(resMatches(vector, answer.res)).toBe(true);
    expect(hex(answer.ck)).toBe(hex(vector.ck));
    expect(hex(answer.ik)).toBe(hex(vector.ik));
    expect(usim.sqnMs).toBe(vector.sqn);
  });

  it('a card with another K answers mac-failure and keeps its SQN array', () => {
    const usim = new UsimSqnArray();
    const vector = generateVector(card(), rand(2), new AucSqn().next());
    const otherK = new Milenage(fromHex('00112233445566778899aabbccddeeff'), OPC);
    expect(answerChallenge(otherK, usim, vector.rand, vector.autn)).toEqual({ status: 'mac-failure' });
    expect(usim.seqMs().every((s) => s === 0)).toBe(true);
  });

  it('a replayed challenge is a sync failure whose AUTS resyncs the AuC, after which the card accepts again', () => {
    const auc = new AucSqn();
    const usim = new UsimSqnArray();
    const first = generateVector(card(), rand(3), auc.next());
    expect(answerChallenge(card(), usim, first.rand, first.autn).status).toBe('ok');
    const replay = answerChallenge(card(), usim, first.rand, first.autn);
    expect(replay.status).toBe('sync-failure');
    if (replay.status !== 'sync-failure') return;
    expect(resyncFromAuts(card(), first.rand, replay.auts)).toEqual({ status: 'ok', sqnMs: first.sqn });

    // An AuC that lost its counter (restored from an old backup) is brought forward by AUTS.
    const restored = new AucSqn();
    const stale = generateVector(card(), rand(4), restored.next());
    const refused = answerChallenge(card(), usim, stale.rand, stale.autn);
    expect(refused.status).toBe('sync-failure');
    if (refused.status !== 'sync-failure') return;
    const resync = resyncFromAuts(card(), stale.rand, refused.auts);
    expect(resync.status).toBe('ok');
    if (resync.status !== 'ok') return;
    restored.resync(resync.sqnMs);
    const fresh = generateVector(card(), rand(5), restored.next());
    expect(answerChallenge(card(), usim, fresh.rand, fresh.autn).status).toBe('ok');
  });
});
