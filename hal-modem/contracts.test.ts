import { describeCardReaderContract } from '../test/contracts/card-reader.contract.js';
import { VirtualUicc } from '../uicc/index.js';
import { bench } from './test-support.js';

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
