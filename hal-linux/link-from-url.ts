import { HalError, type RadioLink } from '../hal/index.js';
import { type LinkTlsOptions, TcpLink } from './tcp-link.js';
import { WsLink } from './ws-link.js';

export interface LinkFromUrlOptions {
  /** TLS settings, used for mqtts:// and wss:// only. */
  tls?: LinkTlsOptions;
  timeoutMs?: number;
  metered?: boolean;
}

/** Default ports: MQTT 1883, MQTT over TLS 8883 (IANA), HTTP 80 and HTTPS 443 for WebSocket. */
const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };

/**
 * The host link for a server URL: mqtt:// (TCP), mqtts:// (TLS), ws:// or
 * wss:// (MQTT over WebSocket; the path is kept). Any other scheme, or a
 * URL that does not parse, throws HalError 'not-supported'.
 */
export function linkFromUrl(url: string, options: LinkFromUrlOptions = {}): RadioLink {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new HalError('not-supported', `not a server URL: ${url}`, { cause: error });
  }
  const defaultPort = DEFAULT_PORTS[parsed.protocol];
  if (defaultPort === undefined || parsed.hostname === '') {
    throw new HalError(
      'not-supported',
      `unsupported server URL ${url}: use mqtt://, mqtts://, ws:// or wss://`,
    );
  }
  const secure = parsed.protocol === 'mqtts:' || parsed.protocol === 'wss:';
  const common = {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.metered === undefined ? {} : { metered: options.metered }),
    ...(secure ? { tls: options.tls ?? {} } : {}),
  };
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:')
    return new WsLink({ url: parsed.href, ...common });
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  return new TcpLink({ host, port, ...common });
}
