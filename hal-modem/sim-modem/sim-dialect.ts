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
  /** Lines after RDY at power-up. `cpin` is the +CPIN state text. */
  boot(cpin: string | undefined): string[];
}

export const SIM_DIALECTS: Record<SimDialectName, SimDialect> = {
  quectel: {
    name: 'quectel',
    ati: ['Quectel', 'EC25', 'Revision: EC25EFAR06A03M4G'],
    manufacturer: 'Quectel',
    model: 'EC25',
    iccid: { command: 'AT+QCCID', prefix: '+QCCID: ' },
    boot: (cpin) => ['+CFUN: 1', `+CPIN: ${cpin ?? 'NOT INSERTED'}`, '+QUSIM: 1', '+QIND: SMS DONE'],
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
    boot: (cpin) => [`+CPIN: ${cpin ?? 'NOT INSERTED'}`, 'SMS DONE', 'PB DONE'],
  },
  generic: {
    name: 'generic',
    ati: ['ACME Cellular Module', 'Revision: 1.0'],
    manufacturer: 'ACME',
    model: 'CM-1',
    iccid: { command: 'AT+CCID', prefix: '+CCID: ' },
    boot: (cpin) => [`+CPIN: ${cpin ?? 'NOT INSERTED'}`],
  },
};
