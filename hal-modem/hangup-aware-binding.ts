import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
// `@serialport/bindings-interface` ships no types for ESM resolution, so the types here come from the Linux binding itself.
import { autoDetect, BindingsError, LinuxBinding, type LinuxPortBinding } from '@serialport/bindings-cpp';

const readAsync = promisify(fsRead);

/** How a read of the port's file descriptor is made; a parameter so the hang-up rule can be tested without a kernel. */
export type FdRead = (
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: null,
) => Promise<{ bytesRead: number }>;

/** What a hung-up tty's read rejects with: not `canceled`, so `@serialport/stream` closes the port with a disconnect. */
export class HangupError extends Error {
  readonly code = 'EHANGUP';
  readonly disconnect = true;
  constructor(path: string) {
    super(`${path} hung up (read returned end of file)`);
    this.name = 'HangupError';
  }
}

/**
 * One read of a Linux tty, the way `@serialport/bindings-cpp`'s `unixRead`
 * makes it (non-blocking `read(2)`; on EAGAIN wait for the poller), with one
 * rule changed: **zero bytes is the end, not "try again"**.
 *
 * The port is opened non-blocking with VMIN 1, so a tty with nothing to read
 * answers EAGAIN; a zero-byte read happens only once the tty is hung up (USB
 * unplug, modem reset, pty master closed: `hung_up_tty_read()` in Linux's
 * `drivers/tty/tty_io.c` returns 0). The library retries a zero at once,
 * forever: the process spins at full CPU and `close` is never emitted
 * (serialport/node-serialport#2043; esp-rs/espmonitor#12 reads the same
 * zero after an unplug). Whether the first read after an unplug sees EIO
 * (which the library does report) or that zero is a race against the
 * kernel's hang-up work, so an unplug went unnoticed about one time in eight
 * on a loaded machine.
 */
export async function readUntilHangup(
  port: LinuxPortBinding,
  path: string,
  buffer: Buffer,
  offset: number,
  length: number,
  read: FdRead = readAsync,
): Promise<{ bytesRead: number; buffer: Buffer }> {
  for (;;) {
    const fd = port.fd;
    if (fd === null) throw new BindingsError('Port is not open', { canceled: true });
    try {
      const { bytesRead } = await read(fd, buffer, offset, length, null);
      if (bytesRead === 0) throw new HangupError(path);
      return { bytesRead, buffer };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw e;
      if (port.fd === null) throw new BindingsError('Port is not open', { canceled: true });
      await new Promise<void>((resolve, reject) =>
        port.poller.once('readable', (error) => (error ? reject(error) : resolve())),
      );
    }
  }
}

/** The Linux port with `read` replaced by {@link readUntilHangup}; every other call goes to the library's port. */
class HangupAwarePort {
  readonly #port: LinuxPortBinding;
  readonly #path: string;

  constructor(port: LinuxPortBinding, path: string) {
    this.#port = port;
    this.#path = path;
  }

  get openOptions() {
    return this.#port.openOptions;
  }
  get isOpen() {
    return this.#port.isOpen;
  }
  read(buffer: Buffer, offset: number, length: number) {
    return readUntilHangup(this.#port, this.#path, buffer, offset, length);
  }
  write(buffer: Buffer) {
    return this.#port.write(buffer);
  }
  close() {
    return this.#port.close();
  }
  update(options: Parameters<LinuxPortBinding['update']>[0]) {
    return this.#port.update(options);
  }
  set(options: Parameters<LinuxPortBinding['set']>[0]) {
    return this.#port.set(options);
  }
  get() {
    return this.#port.get();
  }
  getBaudRate() {
    return this.#port.getBaudRate();
  }
  flush() {
    return this.#port.flush();
  }
  drain() {
    return this.#port.drain();
  }
}

type LinuxOpen = Parameters<typeof LinuxBinding.open>[0] & { path: string };

const HangupAwareLinuxBinding = {
  list: () => LinuxBinding.list(),
  open: async (options: LinuxOpen) => new HangupAwarePort(await LinuxBinding.open(options), options.path),
};

/** The binding the modem HAL opens ports with: the platform's own, with the hang-up rule above on Linux. */
export function modemBinding(): typeof HangupAwareLinuxBinding | ReturnType<typeof autoDetect> {
  return process.platform === 'linux' ? HangupAwareLinuxBinding : autoDetect();
}
