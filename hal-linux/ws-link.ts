import WebSocket from 'ws';
import type { ByteStream, LinkErrorKind } from '../hal/index.js';
import { HalError } from '../hal/index.js';
import { HostLink } from './link-state.js';
import type { LinkTlsOptions } from './tcp-link.js';

export interface WsLinkOptions {
  /** ws:// or wss:// URL of the broker's WebSocket endpoint, path included. */
  url: string;
  /** WebSocket subprotocol (default 'mqtt', as MQTT 3.1.1 §6 requires). */
  protocol?: string;
  /** TLS settings for wss://. */
  tls?: LinkTlsOptions;
  /** Opening handshake timeout (TCP, TLS and HTTP upgrade), default 10 s. */
  timeoutMs?: number;
  metered?: boolean;
}

/** Close codes that end a connection on purpose (RFC 6455 §7.4.1): no error. */
const ORDERLY_CLOSE = new Set([1000, 1001, 1005]);

/**
 * RadioLink over WebSocket, for brokers reachable only through HTTP(S)
 * ports. MQTT rides in binary frames with the 'mqtt' subprotocol (MQTT
 * 3.1.1 §6). `open()` rejects 'link-down' when the server refuses the
 * connection, the upgrade or the subprotocol, and 'timeout' when the
 * handshake does not finish in time. Link state: see HostLink.
 */
export class WsLink extends HostLink {
  constructor(private readonly options: WsLinkOptions) {
    super(options.metered ?? false);
  }

  protected async connect(): Promise<ByteStream> {
    return websocketStream(await this.#websocket());
  }

  #websocket(): Promise<WebSocket> {
    const { url } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, this.options.protocol ?? 'mqtt', {
        ...this.options.tls,
        perMessageDeflate: false,
      });
      const fail = (error: HalError) => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new HalError('timeout', `no WebSocket to ${url} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      ws.once('open', () => {
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(ws);
      });
      ws.once('unexpected-response', (_request, response) =>
        fail(new HalError('link-down', `${url} refused the upgrade: HTTP ${response.statusCode}`)),
      );
      ws.once('error', (error) =>
        fail(new HalError('link-down', `cannot connect to ${url}: ${error.message}`, { cause: error })),
      );
    });
  }
}

/**
 * Presents an open WebSocket (either end) as a hal ByteStream: each write
 * is one binary message; a text message breaks the stream (MQTT 3.1.1 §6:
 * only binary frames carry MQTT).
 */
export function websocketStream(ws: WebSocket): ByteStream {
  let closing = false;
  let failure: HalError<LinkErrorKind> | undefined;
  let closed = false;
  const closeListeners = new Set<(error?: HalError<LinkErrorKind>) => void>();
  const dataListeners = new Set<(bytes: Uint8Array) => void>();
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (closing) return;
    if (!isBinary) {
      failure = new HalError('link-down', 'peer sent a text frame');
      ws.close(1003, 'binary frames only');
      closing = true;
      return;
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (const listener of [...dataListeners]) listener(bytes);
  });
  ws.on('error', (error) => {
    failure ??= new HalError('link-down', `link broke: ${error.message}`, { cause: error });
  });
  ws.on('close', (code: number) => {
    closing = true;
    closed = true;
    if (!ORDERLY_CLOSE.has(code)) failure ??= new HalError('link-down', `WebSocket closed with code ${code}`);
    for (const listener of [...closeListeners]) listener(failure);
    closeListeners.clear();
  });
  return {
    write(bytes) {
      if (closing || ws.readyState !== WebSocket.OPEN) {
        return Promise.reject(new HalError('link-down', 'link closed'));
      }
      const copy = Buffer.from(bytes);
      return new Promise((resolve, reject) => {
        ws.send(copy, { binary: true }, (error) =>
          error ? reject(new HalError('link-down', error.message, { cause: error })) : resolve(),
        );
      });
    },
    onData(listener) {
      dataListeners.add(listener);
      return () => {
        dataListeners.delete(listener);
      };
    },
    onClose(listener) {
      if (closed) {
        listener(failure);
        return () => {};
      }
      closeListeners.add(listener);
      return () => {
        closeListeners.delete(listener);
      };
    },
    close() {
      if (closing) return;
      closing = true;
      // An orderly close frame: messages sent before it reach the peer first.
      ws.close(1000);
    },
  };
}
