import { describe, expect, it } from 'vitest';
import { encodeAdnRecord, gsmAlpha } from './adn.js';
import { fromHex, toHex } from './hex.js';
import { ADN_MARKER, adnTerminalIdCodec } from './terminal-id-adn.js';
import { planIdListWrite, readIdList } from './terminal-id-codec.js';
import { proprietaryTerminalIdCodec as file } from './terminal-id-file.js';

const empty = (n: number) => new Uint8Array(n).fill(0xff);
const user = (name: string, number: string) =>
  encodeAdnRecord({ alpha: gsmAlpha(name), number, tonNpi: 0x81 }, 28);

describe('terminal-ID record formats (FIG. 11-A)', () => {
  it('proprietary EF 6F01: length byte, ASCII, FF padding', () => {
    const rec = file.encode('pi-kitchen', 34);
    expect(toHex(rec)).toBe(`0A70692D6B69746368656E${'FF'.repeat(23)}`);
    expect(file.decode(rec)).toBe('pi-kitchen');
    expect(file.classify(rec)).toBe('ours');
    expect(file.classify(empty(34))).toBe('free');
  });

  it('proprietary EF: refuses IDs that are empty, longer than 32 or not printable ASCII', () => {
    for (const id of ['', 'x'.repeat(33), 'tab\there', 'é']) {
      expect(() => file.encode(id, 34), id).toThrow(expect.objectContaining({ kind: 'bad-argument' }));
    }
    expect(file.decode(fromHex(`21${'41'.repeat(33)}`))).toBeUndefined();
    expect(file.decode(file.encode('x'.repeat(32), 34))).toBe('x'.repeat(32));
  });

  it(`EF_ADN: alpha "${ADN_MARKER}" and the ID as the dialling number`, () => {
    const rec = adnTerminalIdCodec.encode('356938035643809', 28);
    expect(toHex(rec)).toBe('53494D53594E432D544944FFFFFF098153968330653408F9FFFFFFFF');
    expect(adnTerminalIdCodec.classify(rec)).toBe('ours');
    expect(adnTerminalIdCodec.decode(rec)).toBe('356938035643809');
    expect(adnTerminalIdCodec.classify(user('Mum', '0123'))).toBe('foreign');
    expect(adnTerminalIdCodec.classify(user('', '0123'))).toBe('foreign');
    expect(adnTerminalIdCodec.classify(user('SIMSYNC-TIDX', '0123'))).toBe('foreign');
  });

  it("EF_ADN: IDs must be 1–20 of 0-9 * # ('bad-argument'), and a short alpha field is 'no-space'", () => {
    for (const id of ['', 'pi-kitchen', '1'.repeat(21), '12p4']) {
      expect(() => adnTerminalIdCodec.encode(id, 28), id).toThrow(
        expect.objectContaining({ kind: 'bad-argument' }),
      );
    }
    expect(() => adnTerminalIdCodec.encode('1', 24)).toThrow(expect.objectContaining({ kind: 'no-space' }));
  });
});

describe('planning a list write', () => {
  const ours = (id: string) => adnTerminalIdCodec.encode(id, 28);

  it('fills free records in order and never touches the user’s entries', () => {
    const records = [user('Mum', '0123'), empty(28), user('Dad', '0456'), empty(28)];
    const plan = planIdListWrite(records, ['11', '22'], adnTerminalIdCodec, 28)!;
    expect(plan.map((w) => w.record)).toEqual([2, 4]);
    expect(plan.map((w) => adnTerminalIdCodec.decode(w.data))).toEqual(['11', '22']);
  });

  it('reuses our records, skips unchanged ones and clears leftovers when the list shrinks', () => {
    const records = [ours('11'), user('Mum', '0123'), ours('22'), ours('33')];
    const plan = planIdListWrite(records, ['11', '44'], adnTerminalIdCodec, 28)!;
    expect(plan).toEqual([
      { record: 3, data: ours('44') },
      { record: 4, data: empty(28) },
    ]);
  });

  it('returns undefined (no space) when free + own records are too few', () => {
    const records = [user('Mum', '0123'), empty(28)];
    expect(planIdListWrite(records, ['1', '2'], adnTerminalIdCodec, 28)).toBeUndefined();
  });

  it('reads our IDs in record order, skipping foreign and undecodable records', () => {
    const broken = ours('99');
    broken[14] = 0x0c; // BCD length beyond the field
    const records = [ours('22'), user('Mum', '0123'), broken, empty(28), ours('11')];
    expect(readIdList(records, adnTerminalIdCodec)).toEqual(['22', '11']);
  });
});
