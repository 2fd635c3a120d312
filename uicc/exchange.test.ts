import { describe, expect, it } from 'vitest';
import { parseApdu } from './apdu.js';
import { exchange } from './exchange.js';
import { fromHex, toHex } from './hex.js';
import { ScriptedTransport } from './scripted-transport.js';

const cmd = (hex: string) => parseApdu(fromHex(hex));

describe('exchange: T=0 procedure bytes completed for the caller', () => {
  it('returns data and SW directly when the card answers 9000', async () => {
    const t = new ScriptedTransport([['00B0000002', '12349000']]);
    const r = await exchange(t, cmd('00B0000002'));
    expect(toHex(r.data)).toBe('1234');
    expect(r.sw).toBe(0x9000);
    t.done();
  });

  it('61xx: fetches the data with GET RESPONSE in the command class (ISO 7816-4 §5.1.3)', async () => {
    const t = new ScriptedTransport([
      ['00A40004023F0000', '6105'],
      ['00C0000005', '62038201789000'],
    ]);
    const r = await exchange(t, cmd('00A40004023F0000'));
    expect(toHex(r.data)).toBe('6203820178');
    expect(r.sw).toBe(0x9000);
    t.done();
  });

  it('61xx repeatedly: concatenates the pieces until 9000', async () => {
    const t = new ScriptedTransport([
      ['00A40004023F00', '6102'],
      ['00C0000002', 'AABB6101'],
      ['00C0000001', 'CC9000'],
    ]);
    const r = await exchange(t, cmd('00A40004023F00'));
    expect(toHex(r.data)).toBe('AABBCC');
    t.done();
  });

  it('61xx after a CLA 80 STATUS: GET RESPONSE goes out as CLA 00 (TS 102 221 §10.1.1)', async () => {
    const t = new ScriptedTransport([
      ['80F2000000', '6102'],
      ['00C0000002', '62009000'],
    ]);
    expect(toHex((await exchange(t, cmd('80F2000000'))).data)).toBe('6200');
    t.done();
  });

  it('61xx on logical channel 1 keeps the channel bits in the GET RESPONSE class', async () => {
    const t = new ScriptedTransport([
      ['01A40004023F00', '6101'],
      ['01C0000001', '629000'],
    ]);
    expect((await exchange(t, cmd('01A40004023F00'))).sw).toBe(0x9000);
    t.done();
  });

  it('9Fxx: 2G GET RESPONSE A0 C0 00 00 xx (TS 51.011 §9.4.1)', async () => {
    const gsm = '0000100000003F00010000000000';
    const t = new ScriptedTransport([
      ['A0A40000023F00', '9F0E'],
      ['A0C000000E', `${gsm}9000`],
    ]);
    const r = await exchange(t, cmd('A0A40000023F00'));
    expect(toHex(r.data)).toBe(gsm);
    t.done();
  });

  it('6Cxx: re-issues the same command with Le = xx (ISO 7816-3 §12.2.2)', async () => {
    const t = new ScriptedTransport([
      ['00B0000000', '6C0A'],
      ['00B000000A', '98881201000040031000 9000'],
    ]);
    const r = await exchange(t, cmd('00B0000000'));
    expect(toHex(r.data)).toBe('98881201000040031000');
    t.done();
  });

  it('6Cxx on a GET RESPONSE: corrects the GET RESPONSE', async () => {
    const t = new ScriptedTransport([
      ['00A40004023F0000', '6104'],
      ['00C0000004', '6C03'],
      ['00C0000003', '6201AA9000'],
    ]);
    expect(toHex((await exchange(t, cmd('00A40004023F0000'))).data)).toBe('6201AA');
    t.done();
  });

  it('67xx with CLA A0: re-issues with P3 = xx (TS 51.011 §9.4.4)', async () => {
    const t = new ScriptedTransport([
      ['A0B2010420', '671C'],
      ['A0B201041C', `${'FF'.repeat(28)}9000`],
    ]);
    const r = await exchange(t, cmd('A0B2010420'));
    expect(r.data.length).toBe(28);
    t.done();
  });

  it('leaves 6700 and 67xx of CLA 00 to the caller', async () => {
    const t = new ScriptedTransport([
      ['A0B0000009', '6700'],
      ['00B0000009', '6709'],
    ]);
    expect((await exchange(t, cmd('A0B0000009'))).sw).toBe(0x6700);
    expect((await exchange(t, cmd('00B0000009'))).sw).toBe(0x6709);
    t.done();
  });

  it('returns error SWs as they are, with no data', async () => {
    const t = new ScriptedTransport([['00B0000009', '6982']]);
    const r = await exchange(t, cmd('00B0000009'));
    expect(r.sw).toBe(0x6982);
    expect(r.data.length).toBe(0);
  });

  it("gives up with 'bad-response' on a card that chains forever", async () => {
    const endless = { transmit: async () => fromHex('6101') };
    await expect(exchange(endless, cmd('00A40004023F00'))).rejects.toMatchObject({ kind: 'bad-response' });
  });

  it("rejects a one-byte answer with 'bad-response'", async () => {
    const t = new ScriptedTransport([['00B0000001', '90']]);
    await expect(exchange(t, cmd('00B0000001'))).rejects.toMatchObject({ kind: 'bad-response' });
  });
});
