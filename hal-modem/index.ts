/** hal-modem/: a cellular modem on a serial AT port (DESIGN.md "Layers"), and a simulated one for tests and demos. */
export {
  AtEngine,
  type AtEngineOptions,
  type AtEvent,
  type AtResponse,
  type CommandOptions,
} from './at-engine.js';
export { AtError, type AtFinal, cmeText, cmsText, parseFinal } from './at-errors.js';
export { CsimTransport } from './csim-transport.js';
export {
  DIALECTS,
  type Dialect,
  type DialectName,
  detectDialect,
  readCounters,
  simEventOf,
} from './dialect.js';
export type { ModemLogger } from './logger.js';
export { Modem, type ModemOptions } from './modem.js';
export { ModemBattery, type ModemBatteryOptions } from './modem-battery.js';
export { type CardLink, ModemCardOperations } from './modem-card-operations.js';
export { MODEM_ATR, ModemCardReader, type ModemCardReaderOptions } from './modem-card-reader.js';
export { ModemRadioLink, type ModemRadioLinkOptions, rssiToDbm } from './modem-radio-link.js';
export { PtyPair, type PtyPairOptions, requireSocat } from './sim-modem/pty-pair.js';
export { SIM_DIALECTS, type SimDialect, type SimDialectName } from './sim-modem/sim-dialect.js';
export { SimModem, type SimModemOptions } from './sim-modem/sim-modem.js';
export { SimModemHost, type SimModemHostOptions } from './sim-modem/sim-modem-host.js';
