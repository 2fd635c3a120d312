import { SimModemHost } from '../hal-modem/index.js';
import { VirtualUicc } from '../uicc/index.js';

export interface ModemSimulateOptions {
  /** Path of the tty the terminal opens (a symlink socat creates). Default: a fresh temp path. */
  link?: string;
  dialect: 'quectel' | 'simcom';
  iccid: string;
  imsi: string;
  /** PIN1 of the simulated SIM; default 1234. */
  pin?: string;
}

/**
 * `simsync modem simulate`: a simulated Quectel or SIMCom modem with a
 * virtual SIM on a pseudo-terminal, for trying the Raspberry Pi set-up on a
 * PC. Prints the tty to give the terminal (`--card modem:<path>`), runs until
 * SIGINT/SIGTERM, then removes the pty pair.
 */
export async function modemSimulate(
  options: ModemSimulateOptions,
  log: (line: string) => void,
): Promise<void> {
  const card = new VirtualUicc({ iccid: options.iccid, imsi: options.imsi, pin: options.pin ?? '1234' });
  const host = await SimModemHost.start({
    dialect: options.dialect,
    card,
    ...(options.link === undefined ? {} : { link: options.link }),
  });
  log(`simulated ${options.dialect} modem with SIM ${options.iccid} (IMSI ${options.imsi})`);
  log(`AT port: ${host.path}`);
  log('press Ctrl-C to stop');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await host.close();
  log('modem stopped');
}
