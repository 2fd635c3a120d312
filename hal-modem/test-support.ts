import { VirtualUicc, type VirtualUiccProfile } from '../uicc/index.js';
import { Modem, type ModemOptions } from './modem.js';
import type { SimDialectName } from './sim-modem/sim-dialect.js';
import type { SimModemOptions } from './sim-modem/sim-modem.js';
import { SimModemHost } from './sim-modem/sim-modem-host.js';

/** Short timeouts so fault tests finish fast; the simulator answers in well under a millisecond. */
export const FAST: Pick<ModemOptions, 'timeoutMs' | 'settleMs' | 'reopenMs'> = {
  timeoutMs: 800,
  settleMs: 500,
  reopenMs: 50,
};

/** Bound and interval of `expect.poll` waits on the simulated modem (it answers in well under a millisecond). */
export const POLL = { timeout: 5000, interval: 5 };

export const CARD: VirtualUiccProfile = {
  iccid: '8988211000000430010',
  imsi: '001010000000102',
  pin: '1234',
};

export const card = (profile: Partial<VirtualUiccProfile> = {}) => new VirtualUicc({ ...CARD, ...profile });

/** A simulated modem on a pty and the modem HAL opened on it. */
export interface Bench {
  host: SimModemHost;
  modem: Modem;
  close(): Promise<void>;
}

export async function bench(
  dialect: SimDialectName,
  options: Omit<SimModemOptions, 'dialect'> & { modem?: Partial<ModemOptions> } = {},
): Promise<Bench> {
  const { modem: modemOptions, ...simOptions } = options;
  const host = await SimModemHost.start({ dialect, ...simOptions });
  let modem: Modem;
  try {
    modem = await Modem.open({ path: host.path, ...FAST, ...modemOptions });
  } catch (e) {
    await host.close();
    throw e;
  }
  return {
    host,
    modem,
    close: async () => {
      await modem.close();
      await host.close();
    },
  };
}

export { rejection } from '../test/contracts/wait.js';
