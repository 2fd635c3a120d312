import { expect } from 'vitest';
import { createDuplexPair } from '../hal-sim/index.js';
import { describeBatteryContract } from '../test/contracts/battery.contract.js';
import { describeCardReaderContract } from '../test/contracts/card-reader.contract.js';
import { describeRadioLinkContract } from '../test/contracts/radio-link.contract.js';
import { VirtualUicc } from '../uicc/index.js';
import { type Bench, bench, card, POLL } from './test-support.js';

/** Barrier: two more `command`s reached the modem, so the first of them was answered (and acted on) before. */
async function twoMore(b: Bench, command: string): Promise<void> {
  const sent = () => b.host.modem.commands().filter((c) => c === command).length;
  const before = sent();
  await expect.poll(sent, POLL).toBeGreaterThanOrEqual(before + 2);
}

/** +CBC millivolts for a level, on the 3.5–4.2 V line the modem's battery uses. */
const millivolts = (percent: number) => 3500 + 7 * percent;

for (const dialect of ['quectel', 'simcom', 'generic'] as const) {
  describeCardReaderContract(`ModemCardReader on a simulated ${dialect} modem over a pty`, async () => {
    const b = await bench(dialect);
    return {
      reader: b.modem.reader,
      insert: async (profile) => b.host.modem.insertCard(new VirtualUicc(profile)),
      remove: async () => b.host.modem.removeCard(),
      hang: async () => b.host.modem.hangSim(),
      cleanup: () => b.close(),
    };
  });
}

// SIMCom reports volts only (no charging flag), so its +CBC is covered by modem-radio-link.test.ts.
for (const dialect of ['quectel', 'generic'] as const) {
  describeBatteryContract(`ModemBattery (AT+CBC) on a simulated ${dialect} modem`, async () => {
    const b = await bench(dialect, { battery: { percent: 50, charging: false, millivolts: millivolts(50) } });
    return {
      battery: b.modem.battery({ pollMs: 20 }),
      setLevel: async (percent, charging = false) =>
        b.host.modem.setBattery({ percent, charging, millivolts: millivolts(percent) }),
      settle: () => twoMore(b, 'AT+CBC'),
      fail: async () => b.host.modem.dropNextFinal(),
      cleanup: () => b.close(),
    };
  });
}

for (const dialect of ['quectel', 'simcom', 'generic'] as const) {
  describeRadioLinkContract(`ModemRadioLink (+CREG/+CEREG) on a simulated ${dialect} modem`, async () => {
    const b = await bench(dialect, { card: card(), network: { stat: 1, rssi: 20 } });
    const link = b.modem.radioLink({ connect: async () => createDuplexPair()[0], pollMs: 0 });
    await link.refresh();
    // A refresh is an AT round trip: a registration URC sent before its answer has been seen by then.
    const registration = async (stat: number) => {
      b.host.modem.setRegistration(stat);
      await link.refresh();
    };
    return {
      link,
      goDown: () => registration(2),
      goUp: () => registration(1),
      cleanup: async () => {
        link.stop();
        await b.close();
      },
    };
  });
}
