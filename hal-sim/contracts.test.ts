import { describeByteStreamContract } from '../test/contracts/byte-stream.contract.js';
import { describeClockContract } from '../test/contracts/clock.contract.js';
import { createDuplexPair } from './sim-pipe.js';
import { SimRadioLink } from './sim-radio-link.js';
import { VirtualClock } from './virtual-clock.js';

describeClockContract('VirtualClock', async () => {
  const clock = new VirtualClock();
  return { clock, advance: async (ms) => void (await clock.advance(ms)) };
});

describeByteStreamContract('SimPipe in real time', async () => {
  const [a, b] = createDuplexPair();
  return { a, b };
});

describeByteStreamContract('SimPipe with 25 ms latency on a VirtualClock', async () => {
  const clock = new VirtualClock();
  const [a, b] = createDuplexPair({ clock, latencyMs: 25 });
  return { a, b, step: async () => void (await clock.advance(25)) };
});

describeByteStreamContract('stream opened through SimRadioLink', async () => {
  const [a, b] = createDuplexPair();
  const link = new SimRadioLink({ connect: () => a });
  return { a: await link.open(), b };
});
