import { InvalidArgumentError } from 'commander';
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
  /** false: the SIM has PIN1 disabled (needs no PIN). */
  pin1Enabled?: boolean;
  /** 'usim-only': the SIM refuses CLA A0 (6E00), as modern cards and eSIM profiles do. */
  classes?: 'both' | 'usim-only' | 'sim-only';
  /** ADF_USIM answers SELECT like a sysmoISIM-SJA2: 84, no file identifier 83. */
  adfFcpWithoutFileId?: boolean;
  /** The SIM's Milenage key K, 32 hex digits (with `opc` or `op`): it answers AUTHENTICATE. Never printed. */
  ki?: string;
  /** OPc, 32 hex digits. */
  opc?: string;
  /** OP, 32 hex digits (OPc is derived from it). */
  op?: string;
  /** How long the SIM stays busy (+CME ERROR: 14) after insertion and boot, in ms; default 0. */
  simBusyMs?: number;
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
  for (const [flag, value] of [
    ['--ki', options.ki],
    ['--opc', options.opc],
    ['--op', options.op],
  ] as const) {
    if (value !== undefined && !/^[0-9a-fA-F]{32}$/.test(value)) {
      throw new InvalidArgumentError(`${flag}: a Milenage key is 32 hex digits`);
    }
  }
  const card = new VirtualUicc({
    iccid: options.iccid,
    imsi: options.imsi,
    pin: options.pin ?? '1234',
    ...(options.pin1Enabled === undefined ? {} : { pin1Enabled: options.pin1Enabled }),
    ...(options.classes === undefined ? {} : { classes: options.classes }),
    ...(options.adfFcpWithoutFileId === undefined
      ? {}
      : { adfFcpWithoutFileId: options.adfFcpWithoutFileId }),
    ...(options.ki === undefined ? {} : { k: options.ki }),
    ...(options.opc === undefined ? {} : { opc: options.opc }),
    ...(options.op === undefined ? {} : { op: options.op }),
  });
  const host = await SimModemHost.start({
    dialect: options.dialect,
    card,
    ...(options.simBusyMs === undefined ? {} : { simBusyMs: options.simBusyMs }),
    ...(options.link === undefined ? {} : { link: options.link }),
  });
  const aka = options.ki === undefined ? '' : ', USIM AKA with the given key';
  log(`simulated ${options.dialect} modem with SIM ${options.iccid} (IMSI ${options.imsi}${aka})`);
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
