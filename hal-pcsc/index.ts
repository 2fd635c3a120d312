/**
 * hal-pcsc: the card reader on a real PC/SC stack (DESIGN.md "Layers"), and
 * a virtual card for vsmartcard-vpcd so the same stack runs with no hardware.
 */
export { type OpenPcscReaderOptions, openPcscReader } from './open-reader.js';
export { PcscCardReader, type PcscReaderOptions, type ReaderWatch } from './pcsc-card-reader.js';
export type { Disposition, ProtocolChoice, ShareMode } from './pcsc-connection.js';
export { PcscContext, type PcscContextOptions, type ReaderSelector } from './pcsc-context.js';
export { fromPcscError, NO_PCSCD_MESSAGE, PCSC_CODE, pcscCode } from './pcsc-errors.js';
export type { PcscLogger } from './pcsc-logger.js';
export { PcscSimCard } from './pcsc-sim-card.js';
export {
  type VirtualChip,
  VPCD_DEFAULT_PORT,
  type VpcdApduRecord,
  VpcdCard,
  type VpcdCardOptions,
  type VpcdFault,
} from './vpcd-card.js';
export { decodeFrames, encodeFrame, VPCD_CONTROL } from './vpcd-framing.js';
