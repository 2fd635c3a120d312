/** The slice of a pino logger hal-pcsc uses (STYLE.md §10); core's Logger fits it. */
export interface PcscLogger {
  debug(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
}
