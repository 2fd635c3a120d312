/** EF structures of ISO 7816-4 §7.1.3 used by SIM/USIM files. */
export type FileStructure = 'transparent' | 'linear-fixed' | 'cyclic';

/** Who may perform an operation on an EF (TS 51.011 §9.3 access conditions, simplified). */
export type AccessRule = 'always' | 'pin1' | 'never';

/**
 * What a SELECT told us about a file, from either the 2G GSM response
 * (TS 51.011 §9.2.1) or the 3G FCP template (TS 102 221 §11.1.1.3).
 */
export interface FileInfo {
  readonly fid: number;
  /** 'adf' only on 3G, for an application DF selected by AID. */
  readonly type: 'mf' | 'df' | 'adf' | 'ef';
  readonly structure?: FileStructure;
  /** EF: body size in bytes. DF: free memory (2G) or 0 when not reported. */
  readonly size: number;
  readonly recordLength?: number;
  readonly recordCount?: number;
  /** DF/ADF: whether PIN1 is enabled, when the card says so. */
  readonly pin1Enabled?: boolean;
  /** 2G DF only: CHV1 / UNBLOCK CHV1 tries left (TS 51.011 §9.2.1 bytes 19–20). */
  readonly pin1RetriesLeft?: number;
  readonly pukRetriesLeft?: number;
  /** ADF: its application identifier (FCP tag 84). */
  readonly aid?: Uint8Array;
}
