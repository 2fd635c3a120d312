/**
 * uicc/: the portable ISO 7816-4 / TS 51.011 / TS 31.101-31.102 APDU layer (DESIGN.md "Layers"),
 * the one `SimCard` every card HAL hands out, and the FIG. 11-A terminal-ID list above it.
 */

export {
  ADN_MAX_DIGITS,
  type AdnEntry,
  decodeAdnRecord,
  encodeAdnRecord,
  gsmAlpha,
  isEmptyAdnRecord,
} from './adn.js';
export { type ApduCase, apduCase, type CommandApdu, encodeApdu, parseApdu } from './apdu.js';
export { decodeDecimalBcd, encodeDecimalBcd } from './bcd.js';
export { type Application, CardChannel, errorForSw, type FilePath } from './card-channel.js';
export { openFailure, toHalError } from './card-errors.js';
export {
  type ApplicationTemplate,
  decodeApplicationTemplate,
  encodeApplicationTemplate,
  isUsimAid,
} from './ef-dir.js';
export {
  isUiccError,
  UiccError,
  type UiccErrorFields,
  type UiccErrorKind,
} from './errors.js';
export { type ApduTransport, exchange } from './exchange.js';
export { decodeFcp, encodeFcp, type FcpDescription } from './fcp.js';
export { FID, USIM_AID_PREFIX, VIRTUAL_USIM_AID } from './file-ids.js';
export type { AccessRule, FileInfo, FileStructure } from './file-info.js';
export { decodeGsmResponse, encodeGsmDfResponse, encodeGsmEfResponse } from './gsm-response.js';
export { bytesEqual, concatBytes, fromHex, swHex, toHex } from './hex.js';
export { decodeIccid, encodeIccid, luhnCheckDigit, luhnValid } from './iccid.js';
export { decodeImsi, encodeImsi } from './imsi.js';
export { encodePinBlock, isValidPin, isValidPuk } from './pin-block.js';
export { type ApduExchange, directTransport, RecordingTransport } from './recording-transport.js';
export { encodeResponse, parseResponse, type ResponseApdu } from './response.js';
export { ScriptedTransport } from './scripted-transport.js';
export { CLA_SIM, simCommands } from './sim-commands.js';
export { describeSw, pendingResponseLength, retriesFromSw, SW } from './status-words.js';
export { ADN_MARKER, adnTerminalIdCodec, isAdnTerminalId } from './terminal-id-adn.js';
export { planIdListWrite, type RecordWrite, readIdList, type TerminalIdCodec } from './terminal-id-codec.js';
export {
  proprietaryTerminalIdCodec,
  TERMINAL_ID_MAX_LENGTH,
  TERMINAL_ID_RECORD_LENGTH,
  TERMINAL_ID_RECORDS,
} from './terminal-id-file.js';
export {
  type CardRecords,
  readTerminalIds,
  type TerminalIdStorage,
  terminalIdStorage,
  writeTerminalIds,
} from './terminal-id-list.js';
export { UiccSession } from './uicc-session.js';
export { type DeviceCardOperations, UiccSimCard, type UiccSimCardOptions } from './uicc-sim-card.js';
export { CLA_USIM, usimCommands } from './usim-commands.js';
export type { VirtualCardMemory } from './virtual-memory.js';
export type { CardClasses, PhonebookEntry, VirtualUiccProfile } from './virtual-profile.js';
export { VIRTUAL_ATR, VirtualUicc, type VirtualUiccSnapshot } from './virtual-uicc.js';
