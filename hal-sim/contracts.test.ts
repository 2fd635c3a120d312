import { describeBatteryContract } from '../test/contracts/battery.contract.js';
import { describeByteStreamContract } from '../test/contracts/byte-stream.contract.js';
import { describeClockContract } from '../test/contracts/clock.contract.js';
import { BUSY, describeIdleSensorContract } from '../test/contracts/idle-sensor.contract.js';
import { describeRadioLinkContract } from '../test/contracts/radio-link.contract.js';
import { SimBattery } from './sim-battery.js';
import { SimIdleSensor } from './sim-idle-sensor.js';
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

describeBatteryContract('SimBattery', async () => {
  const battery = new SimBattery({ percent: 50 });
  return {
    battery,
    setLevel: async (percent, charging = false) => battery.set(percent, charging),
    settle: async () => {},
    fail: async () => battery.failReads('device-unavailable'),
  };
});

describeIdleSensorContract('SimIdleSensor', async () => {
  const sensor = new SimIdleSensor(BUSY);
  return { sensor, set: async (state) => sensor.set(state), settle: async () => {} };
});

describeRadioLinkContract('SimRadioLink', async () => {
  const link = new SimRadioLink({ connect: () => createDuplexPair()[0], signalDbm: -70, metered: true });
  return { link, goDown: async () => link.setUp(false), goUp: async () => link.setUp(true) };
});
