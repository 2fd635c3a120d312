import { fromHex } from './hex.js';

/** File identifiers of the files this layer uses (TS 51.011 §10, TS 102 221 §13, TS 31.102 §4). */
export const FID = {
  MF: 0x3f00,
  /** EF_DIR: application templates (TS 102 221 §13.1). */
  EF_DIR: 0x2f00,
  /** EF_ICCID (TS 102 221 §13.2), readable always. */
  EF_ICCID: 0x2fe2,
  DF_TELECOM: 0x7f10,
  DF_GSM: 0x7f20,
  /** EF_IMSI under DF_GSM (TS 51.011 §10.3.2) and under ADF_USIM (TS 31.102 §4.2.2). */
  EF_IMSI: 0x6f07,
  /** EF_ADN under DF_TELECOM (TS 51.011 §10.5.1). */
  EF_ADN: 0x6f3a,
  /** The current application's ADF, as a FID (TS 102 221 §8.4.1). */
  CURRENT_ADF: 0x7fff,
  /**
   * simsync's proprietary DF for the terminal-ID list (FIG. 11-A). 7FDE is not among
   * the DF identifiers TS 51.011 §6.6 and TS 31.102 assign, so it cannot shadow a standard DF.
   */
  DF_SIMSYNC: 0x7fde,
  EF_TERMINAL_IDS: 0x6f01,
} as const;

/** The 3GPP RID + USIM application code (ETSI TS 101 220 Annex E): A000000087 1002. */
export const USIM_AID_PREFIX = fromHex('A0000000871002');

/** The full USIM AID the virtual card carries: prefix, country FF FF, provider FF FF, PIX 89 07 09 00 00. */
export const VIRTUAL_USIM_AID = fromHex('A0000000871002FFFFFFFF8907090000');
