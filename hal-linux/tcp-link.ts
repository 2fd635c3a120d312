import net from 'node:net';
import tls from 'node:tls';
import type { ByteStream, LinkErrorKind } from '../hal/index.js';
import { HalError } from '../hal/index.js';
import { HostLink } from './link-state.js';

/** TLS settings for mqtts:// and wss://: the CA to trust and, optionally, a client certificate. */
export interface LinkTlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer;
  /** PEM client certificate and key, for servers that require one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to verify the server certificate against (default: the host). */
  servername?: string;
  /** Default true. Turn off only in tests. */
  rejectUnauthorized?: boolean;
}

export interface TcpLinkOptions {
  host: string;
  port: number;
  /** TLS (mqtts): present to use TLS, `{}` for the system CA store. */
  tls?: LinkTlsOptions;
  /** Connect (and TLS handshake) timeout, default 10 s. */
  timeoutMs?: number;
  metered?: boolean;
}

/**
 * RadioLink over the host's network (TCP or TLS): on a PC or a Pi the data
 * path is the OS network, whatever carries it. `open()` rejects 'link-down'
 * when the server cannot be reached or its certificate is refused, and
 * 'timeout' when it does not answer. Link state: see HostLink.
 */
export class TcpLink extends HostLink {
  constructor(private readonly options: TcpLinkOptions) {
    super(options.metered ?? false);
  }

  protected async connect(): Promise<ByteStream> {
    return socketStream(await this.#socket());
  }

  #socket(): Promise<net.Socket> {
    const { host, port } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = this.options.tls
        ? tls.connect({ host, port, ...this.options.tls })
        : net.connect({ host, port, noDelay: true });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HalError('timeout', `no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
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

/** Presents a connected socket (TCP or TLS) as a hal ByteStream. */
export function socketStream(socket: net.Socket): ByteStream {
  let closed = false;
  const closeListeners = new Set<(error?: HalError<LinkErrorKind>) => void>();
  let failure: HalError<LinkErrorKind> | undefined;
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
      if (closed || socket.destroyed) return Promise.reject(new HalError('link-down', 'link closed'));
      // Copied: the socket may hold the buffer until it is flushed, and the caller may reuse it.
      const copy = Buffer.from(bytes);
      return new Promise((resolve, reject) => {
        socket.write(copy, (error) =>
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
