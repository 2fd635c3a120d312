/** The slice of a pino logger hal-modem uses (STYLE.md §10: logs are injected). */
export interface ModemLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
}

export const silentModemLogger: ModemLogger = {
  debug() {},
  info() {},
  warn() {},
};
