import net from 'node:net';
import tls from 'node:tls';
import { type ByteStream, HalError, type LinkState, type RadioLink, type Unsubscribe } from '../hal/index.js';

export interface TcpLinkOptions {
  host: string;
  port: number;
  /** TLS (mqtts): CA to trust, and optionally a client certificate. */
  tls?: {
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    servername?: string;
    rejectUnauthorized?: boolean;
  };
  /** Connect timeout (default 10 s). */
  timeoutMs?: number;
  metered?: boolean;
}

/**
 * RadioLink over the host's network (TCP or TLS): on a PC or a Pi the data
 * path is the OS network, whatever carries it. `open()` rejects 'link-down'
 * when the server cannot be reached and 'timeout' when it does not answer.
 */
export class TcpLink implements RadioLink {
  private readonly listeners = new Set<(state: LinkState) => void>();

  constructor(private readonly options: TcpLinkOptions) {}

  state(): LinkState {
    return { up: true, metered: this.options.metered ?? false };
  }

  onState(listener: (state: LinkState) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  open(): Promise<ByteStream> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const socket = this.options.tls
        ? tls.connect({ host, port, ...this.options.tls })
        : net.connect({ host, port, noDelay: true });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new HalError(
            'timeout',
            `no connection to ${host}:${port} within ${this.options.timeoutMs ?? 10_000} ms`,
          ),
        );
      }, this.options.timeoutMs ?? 10_000);
      socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socketStream(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new HalError('link-down', `cannot connect to ${host}:${port}: ${error.message}`, { cause: error }),
        );
      });
    });
  }
}

/** Presents a connected socket as a hal ByteStream. */
export function socketStream(socket: net.Socket): ByteStream {
  let closed = false;
  const closeListeners = new Set<(error?: Error) => void>();
  let failure: Error | undefined;
  socket.on('error', (error) => {
    failure = new HalError('link-down', `link broke: ${error.message}`, { cause: error });
  });
  socket.on('close', () => {
    closed = true;
    for (const listener of closeListeners) listener(failure);
    closeListeners.clear();
  });
  return {
    write(bytes) {
      if (closed) return Promise.reject(new HalError('link-down', 'link closed'));
      return new Promise((resolve, reject) => {
        socket.write(bytes, (error) =>
          error ? reject(new HalError('link-down', error.message, { cause: error })) : resolve(),
        );
      });
    },
    onData(listener) {
      const handler = (chunk: Buffer) =>
        listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      socket.on('data', handler);
      return () => socket.off('data', handler);
    },
    onClose(listener) {
      if (closed) {
        listener(failure);
        return () => {};
      }
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close() {
      socket.destroy();
    },
  };
}
