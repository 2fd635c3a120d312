import { afterEach, describe, expect, it } from 'vitest';
import type { ByteStream } from '../hal/index.js';
import { isHalError } from '../hal/index.js';
import { rssiToDbm } from './modem-radio-link.js';
import { type Bench, bench, card, POLL, rejection } from './test-support.js';

let b: Bench;
afterEach(async () => {
  await b?.close();
});

const fakeStream = {} as ByteStream;

describe('ModemRadioLink (AT+CREG? / AT+CEREG? / AT+CSQ)', () => {
  it('TS 27.007 §8.5: rssi → dBm = −113 + 2·rssi; 99 is unknown', () => {
    expect(rssiToDbm(0)).toBe(-113);
    expect(rssiToDbm(20)).toBe(-73);
    expect(rssiToDbm(31)).toBe(-51);
    expect(rssiToDbm(99)).toBeUndefined();
  });

  for (const dialect of ['quectel', 'simcom'] as const) {
    it(`${dialect}: up when registered, with signal; follows +CREG/+CEREG URCs; open() uses connect`, async () => {
      b = await bench(dialect, { card: card(), network: { stat: 1, rssi: 20 } });
      const link = b.modem.radioLink({ connect: async () => fakeStream, pollMs: 0 });
      expect(await link.refresh()).toEqual({ up: true, signalDbm: -73, metered: true });
      expect(await link.open()).toBe(fakeStream);
      const states: boolean[] = [];
      link.onState((s) => states.push(s.up));
      b.host.modem.setRegistration(2);
      await expect.poll(() => link.state().up, POLL).toBe(false);
      expect(isHalError(await rejection(link.open()), 'link-down')).toBe(true);
      b.host.modem.setRegistration(5);
      await expect.poll(() => link.state().up, POLL).toBe(true);
      expect(states).toEqual([false, true]);
      b.host.modem.setSignal(99);
      expect((await link.refresh()).signalDbm).toBeUndefined();
    });
  }

  it("open() without a data path rejects 'not-supported'", async () => {
    b = await bench('generic', { card: card() });
    const link = b.modem.radioLink({ pollMs: 0 });
    await link.refresh();
    expect(isHalError(await rejection(link.open()), 'not-supported')).toBe(true);
  });
});

describe('ModemBattery (AT+CBC)', () => {
  it('Quectel: +CBC: <bcs>,<bcl>,<mV> gives percent and charging', async () => {
    b = await bench('quectel', { battery: { percent: 64, charging: true, millivolts: 3950 } });
    expect(await b.modem.battery().read()).toEqual({ percent: 64, charging: true });
  });

  it('SIMCom: +CBC: <V>V maps volts to percent between 3.5 V and 4.2 V', async () => {
    b = await bench('simcom', { battery: { percent: 0, charging: false, millivolts: 3850 } });
    expect(await b.modem.battery().read()).toEqual({ percent: 50, charging: false });
  });

  it('onLow fires once when the level falls to the threshold, not again while it stays low', async () => {
    b = await bench('generic', { battery: { percent: 50, charging: false, millivolts: 3800 } });
    const battery = b.modem.battery({ pollMs: 20 });
    // Barrier: n + 2 AT+CBC polls reached the modem, so the (n + 1)th was answered and checked before.
    const reads = () => b.host.modem.commands().filter((c) => c === 'AT+CBC').length;
    const polled = async () => {
      const before = reads();
      await expect.poll(reads, POLL).toBeGreaterThanOrEqual(before + 2);
    };
    const lows: number[] = [];
    const off = battery.onLow(20, (r) => lows.push(r.percent));
    await polled();
    b.host.modem.setBattery({ percent: 15, charging: false, millivolts: 3600 });
    await expect.poll(() => lows, POLL).toEqual([15]);
    b.host.modem.setBattery({ percent: 10, charging: false, millivolts: 3550 });
    await polled();
    expect(lows).toEqual([15]);
    off();
  });

  it("a modem without AT+CBC rejects 'not-supported'", async () => {
    b = await bench('quectel', { unsupported: ['+CBC'] });
    expect(isHalError(await rejection(b.modem.battery().read()), 'not-supported')).toBe(true);
  });
});
