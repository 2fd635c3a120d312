/** Which modem family the simulator imitates. 'generic' speaks only TS 27.007. */
export type SimDialectName = 'quectel' | 'simcom' | 'generic';

/** What a family says about itself and how it differs on the wire. */
export interface SimDialect {
  readonly name: SimDialectName;
  /** ATI (V.250 §6.1.3) information lines. */
  readonly ati: readonly string[];
  /** AT+CGMI / AT+CGMM (TS 27.007 §5.1, §5.2). */
  readonly manufacturer: string;
  readonly model: string;
  /** Vendor ICCID command and the prefix of its answer. */
  readonly iccid: { command: string; prefix: string };
  /** Lines right after RDY at power-up, before the SIM has started. */
  readonly boot: readonly string[];
  /** Lines once the SIM has started (at power-up or after insertion): the +CPIN state and kin. */
  simStarted(cpin: string | undefined): string[];
  /** Lines once SMS and phonebook are read from an unlocked SIM ("SMS DONE", "PB DONE"). */
  readonly simInitialised: readonly string[];
}

export const SIM_DIALECTS: Record<SimDialectName, SimDialect> = {
  quectel: {
    name: 'quectel',
    ati: ['Quectel', 'EC25', 'Revision: EC25EFAR06A03M4G'],
    manufacturer: 'Quectel',
    model: 'EC25',
    iccid: { command: 'AT+QCCID', prefix: '+QCCID: ' },
    // EC2x AT manual: RDY, +CFUN: 1, +CPIN: <state>, +QUSIM: 1 (a USIM), then +QIND: SMS DONE / PB DONE once unlocked.
    boot: ['+CFUN: 1'],
    simStarted: (cpin) => (cpin === undefined ? ['+CPIN: NOT INSERTED'] : [`+CPIN: ${cpin}`, '+QUSIM: 1']),
    simInitialised: ['+QIND: SMS DONE', '+QIND: PB DONE'],
  },
  simcom: {
    name: 'simcom',
    ati: [
      'Manufacturer: SIMCOM INCORPORATED',
      'Model: SIMCOM_SIM7600E-H',
      'Revision: SIM7600M22_V1.1',
      'IMEI: 861234567890123',
      '+GCAP: +CGSM',
    ],
    manufacturer: 'SIMCOM INCORPORATED',
    model: 'SIMCOM_SIM7600E-H',
    iccid: { command: 'AT+CICCID', prefix: '+ICCID: ' },
    // SIM7500/SIM7600 AT manual: RDY, +CPIN: <state>, then SMS DONE and PB DONE once unlocked.
    boot: [],
    simStarted: (cpin) => [`+CPIN: ${cpin ?? 'NOT INSERTED'}`],
    simInitialised: ['SMS DONE', 'PB DONE'],
  },
  generic: {
    name: 'generic',
    ati: ['ACME Cellular Module', 'Revision: 1.0'],
    manufacturer: 'ACME',
    model: 'CM-1',
    iccid: { command: 'AT+CCID', prefix: '+CCID: ' },
    boot: [],
    simStarted: (cpin) => [`+CPIN: ${cpin ?? 'NOT INSERTED'}`],
    simInitialised: [],
  },
};
