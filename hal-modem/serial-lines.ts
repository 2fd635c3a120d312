import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPortStream } from '@serialport/stream';
import { HalError } from '../hal/index.js';
import { modemBinding } from './hangup-aware-binding.js';

const CLOSE_BOUND_MS = 1000;

/** A serial port seen as text lines, the way V.250 frames a modem's output. */
export interface LinePort {
  /** Writes raw text (the caller adds the S3 terminator). Rejects 'device-unavailable'. */
  write(text: string): Promise<void>;
  /** Closes the port; idempotent. Does not fire `onClose`. Resolves within a second even if the driver hangs. */
  close(): Promise<void>;
}

export interface LinePortHandlers {
  /** One line, CR/LF stripped, bytes mapped 1:1 to chars (latin1) so noise stays visible. */
  onLine(line: string): void;
  /** The port went away by itself (USB unplug, modem reboot, pty closed): 'device-unavailable', the driver's error as cause. */
  onLost(error: HalError<'device-unavailable'>): void;
}

/**
 * Opens `path` raw at `baudRate` (8N1, no flow control; USB modems ignore
 * the rate). Lines are split on CR: a modem ends its own lines with CR LF
 * (V.250 §5.7.1), an echo ends with the S3 character CR only, so splitting on
 * CR and trimming the LF serves both. Rejects 'busy' when another process
 * holds the port, 'device-unavailable' when it cannot be opened.
 */
export function openLinePort(path: string, baudRate: number, handlers: LinePortHandlers): Promise<LinePort> {
  const port = new SerialPortStream({ binding: modemBinding(), path, baudRate, autoOpen: false });
  return new Promise((resolve, reject) => {
    port.open((error) => {
      if (error) {
        const busy = /lock|busy/i.test(error.message);
        reject(
          new HalError(busy ? 'busy' : 'device-unavailable', `cannot open ${path}: ${error.message}`, {
            cause: error,
          }),
        );
        return;
      }
      const parser = port.pipe(new ReadlineParser({ delimiter: '\r', encoding: 'latin1' }));
      parser.on('data', (line: string) => handlers.onLine(line.replace(/[\r\n]/g, '')));
      let closing = false;
      port.on('close', (e: (Error & { disconnected?: boolean }) | null) => {
        if (closing) return;
        handlers.onLost(new HalError('device-unavailable', `${path} went away`, e ? { cause: e } : {}));
      });
      // Write errors surface through `write`; read errors end in 'close'.
      port.on('error', () => {});
      resolve({
        write: (text) =>
          new Promise<void>((ok, fail) => {
            if (!port.isOpen) {
              fail(new HalError('device-unavailable', `${path} is not open`));
              return;
            }
            port.write(Buffer.from(text, 'latin1'), (e) =>
              e ? fail(new HalError('device-unavailable', `write to ${path} failed`, { cause: e })) : ok(),
            );
          }),
        close: () =>
          new Promise<void>((ok) => {
            closing = true;
            if (!port.isOpen) {
              ok();
              return;
            }
            // A tty whose driver is stuck (a wedged USB modem) may never call back; shutdown must not wait on it.
            const bound = setTimeout(ok, CLOSE_BOUND_MS);
            bound.unref();
            port.close(() => {
              clearTimeout(bound);
              ok();
            });
          }),
      });
    });
  });
}
