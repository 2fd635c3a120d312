import { concatBytes } from './hex.js';
import { encodeTlv } from './tlv.js';

/**
 * The FCP a sysmoISIM-SJA2 answers to SELECT of ADF_USIM by AID, as pySim's
 * card_sanitizer recorded it (osmocom/pysim tests/card_sanitizer/
 * card_backup_3b9f96801f878031e073fe211b674a4c753034054ba9_8988211000000467343.script):
 *
 *   62 38 82 02 78 21 84 10 <AID> A5 09 80 01 71 83 04 00 01 8D 08
 *         8A 01 05 8C 01 00 C6 0F 90 01 70 83 01 01 83 01 81 83 01 0A 83 01 0B
 *
 * No file identifier 83 at the top level (the 83 inside A5 is "available
 * memory", TS 102 221 §11.1.1.4.6.2), a one-byte compact security attribute,
 * and a PIN status template listing the key references (TS 102 221 §9.5.1)
 * PIN1 (01), PIN2 (81), ADM1 and ADM2 (0A, 0B). PS_DO 70 = PIN1 disabled,
 * the others enabled, as on that card; F0 with PIN1 enabled.
 */
export function encodeSja2AdfFcp(aid: Uint8Array, pin1Enabled: boolean): Uint8Array {
  const proprietary = encodeTlv(0xa5, Uint8Array.of(0x80, 0x01, 0x71, 0x83, 0x04, 0x00, 0x01, 0x8d, 0x08));
  const psDo = 0x70 | (pin1Enabled ? 0x80 : 0x00);
  const pinTemplate = encodeTlv(
    0xc6,
    Uint8Array.of(0x90, 0x01, psDo, 0x83, 0x01, 0x01, 0x83, 0x01, 0x81, 0x83, 0x01, 0x0a, 0x83, 0x01, 0x0b),
  );
  return encodeTlv(
    0x62,
    concatBytes(
      encodeTlv(0x82, Uint8Array.of(0x78, 0x21)),
      encodeTlv(0x84, aid),
      proprietary,
      encodeTlv(0x8a, Uint8Array.of(0x05)),
      encodeTlv(0x8c, Uint8Array.of(0x00)),
      pinTemplate,
    ),
  );
}
