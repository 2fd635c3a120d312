/**
 * What the `simsync` process does with failures no command handled (issue
 * 16: no stack traces): one line on stderr and an exit code.
 *
 * - A port already taken (`listen EADDRINUSE`) names the address and the
 *   flag that chose it.
 * - Output piped into a program that stopped reading (`| head`, EPIPE):
 *   nothing more is written and the exit code is 141, what a shell reports
 *   for a program that SIGPIPE ended, as `seq 1 1000000 | head -1` does.
 * - Anything else unexpected is one line too; `-v` adds the stack.
 */
export const EXIT_CODES = { failed: 1, usage: 2, brokenPipe: 141 } as const;

/** Which flag chose which port, for the EADDRINUSE line (set by the command that listens). */
const portFlags = new Map<number, string>();

export function notePort(port: number | undefined, flag: string): void {
  if (port !== undefined && port !== 0) portFlags.set(port, flag);
}

let verbose = false;
let outputClosed = false;

export function setVerbose(on: boolean): void {
  verbose = on;
}

/** Installs the handlers; call once, before any command runs. */
export function guardProcess(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') fatal(e);
      outputClosed = true;
      // Whatever is still said goes nowhere: the reader is gone.
      stream.write = (() => true) as typeof stream.write;
    });
  }
  process.on('exit', () => {
    if (outputClosed) process.exitCode = EXIT_CODES.brokenPipe;
  });
  process.on('uncaughtException', (e) => fatal(e));
  process.on('unhandledRejection', (e) => fatal(e));
}

/** Errors that say a flag or argument is wrong: the message is all there is to it (exit 2). */
const USAGE_ERRORS = new Set([
  'OperatorInputError',
  'CommandError',
  'SettingsError',
  'InvalidArgumentError',
  'AkaVaultError',
  'AkaAdminError',
]);

/** One line for an error that reached the top, then exit. */
export function fatal(error: unknown): never {
  if (error instanceof Error && USAGE_ERRORS.has(error.name)) {
    process.stderr.write(`simsync: ${error.message}\n`);
    process.exit(EXIT_CODES.usage);
  }
  process.stderr.write(`simsync: ${describeFatal(error)}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(EXIT_CODES.failed);
}

export function describeFatal(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE') {
    const where = e.port === undefined ? (e.address ?? 'the address') : `${e.address ?? ''}:${e.port}`;
    const flag = e.port === undefined ? undefined : portFlags.get(e.port);
    return `${where} is already in use (another simsync server?)${flag ? `: choose another with ${flag}` : ''}${flag === '--metrics-port' ? ', or --metrics-port 0 for none' : ''}`;
  }
  if (e?.code === 'EACCES' && e.syscall === 'listen') {
    return `not allowed to listen on ${e.address ?? ''}:${e.port ?? ''} (ports below 1024 need privileges)`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return verbose ? message : `${message} (-v shows where)`;
}
