/**
 * The PROXY protocol header a load balancer puts before a connection's bytes
 * (HAProxy's proxy-protocol.txt, versions 1 and 2), so the server learns the
 * terminal's own address (the attempt limits count per source address) where
 * it would otherwise see only the balancer's. Aedes 1.x reads none, so the
 * header is taken off here, before any byte reaches the MQTT parser.
 *
 * A listener that expects the header requires it: a connection without one
 * is refused, or anyone reaching the port directly could name any address.
 */

/** §2.2: the 12 bytes that open a version 2 header. */
const V2_SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
/** §2.1: a version 1 header is at most 107 bytes, CRLF included. */
const V1_MAX = 107;
const V1_PREFIX = 'PROXY ';

export type ProxyHeader =
  /** The balancer speaking for itself (a health check): no client address. */
  | { kind: 'local'; headerBytes: number }
  | { kind: 'proxied'; sourceAddress: string; sourcePort: number; headerBytes: number };

export type ProxyParse = ProxyHeader | { kind: 'incomplete' } | { kind: 'invalid'; reason: string };

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  return prefix.every((b, i) => bytes[i] === b);
}

function ipv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

function parseV1(bytes: Uint8Array): ProxyParse {
  const end = bytes.indexOf(0x0a);
  if (end < 0)
    return bytes.length >= V1_MAX
      ? { kind: 'invalid', reason: 'v1 header too long' }
      : { kind: 'incomplete' };
  if (end + 1 > V1_MAX || bytes[end - 1] !== 0x0d)
    return { kind: 'invalid', reason: 'v1 header not ended by CRLF' };
  const line = new TextDecoder('latin1').decode(bytes.subarray(0, end - 1));
  const [proxy, family, source, _destination, sourcePort, _destinationPort, ...rest] = line.split(' ');
  if (proxy !== 'PROXY') return { kind: 'invalid', reason: 'not a PROXY header' };
  if (family === 'UNKNOWN') return { kind: 'local', headerBytes: end + 1 };
  const port = Number(sourcePort);
  const addressOk =
    family === 'TCP4'
      ? /^\d{1,3}(\.\d{1,3}){3}$/.test(source ?? '')
      : family === 'TCP6' && /^[0-9a-fA-F:.]{2,45}$/.test(source ?? '');
  if (!addressOk || rest.length > 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    return { kind: 'invalid', reason: `v1 header malformed: ${line.slice(0, 60)}` };
  }
  return { kind: 'proxied', sourceAddress: source ?? '', sourcePort: port, headerBytes: end + 1 };
}

function parseV2(bytes: Uint8Array): ProxyParse {
  if (bytes.length < 16) return { kind: 'incomplete' };
  const versionCommand = bytes[12] ?? 0;
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: 'v2 header with another version' };
  const length = ((bytes[14] ?? 0) << 8) | (bytes[15] ?? 0);
  const headerBytes = 16 + length;
  if (bytes.length < headerBytes) return { kind: 'incomplete' };
  const command = versionCommand & 0x0f;
  if (command === 0x0) return { kind: 'local', headerBytes };
  if (command !== 0x1) return { kind: 'invalid', reason: `v2 command ${command}` };
  const family = (bytes[13] ?? 0) >> 4;
  const body = bytes.subarray(16, headerBytes);
  if (family === 0x1 && length >= 12) {
    return {
      kind: 'proxied',
      sourceAddress: Array.from(body.subarray(0, 4)).join('.'),
      sourcePort: ((body[8] ?? 0) << 8) | (body[9] ?? 0),
      headerBytes,
    };
  }
  if (family === 0x2 && length >= 36) {
    return {
      kind: 'proxied',
      sourceAddress: ipv6(body.subarray(0, 16)),
      sourcePort: ((body[32] ?? 0) << 8) | (body[33] ?? 0),
      headerBytes,
    };
  }
  // AF_UNSPEC or AF_UNIX: no address to take; the connection is the balancer's.
  if (family === 0x0 || family === 0x3) return { kind: 'local', headerBytes };
  return { kind: 'invalid', reason: `v2 address family ${family} too short (${length} bytes)` };
}

/** Reads a header from the first bytes of a connection (call again with more while incomplete). */
export function parseProxyHeader(bytes: Uint8Array): ProxyParse {
  if (bytes.length === 0) return { kind: 'incomplete' };
  if (bytes[0] === V2_SIGNATURE[0]) {
    const seen = bytes.subarray(0, V2_SIGNATURE.length);
    if (!startsWith(V2_SIGNATURE, seen)) return { kind: 'invalid', reason: 'not a PROXY header' };
    return seen.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(bytes);
  }
  const prefix = new TextDecoder('latin1').decode(bytes.subarray(0, V1_PREFIX.length));
  if (!V1_PREFIX.startsWith(prefix)) return { kind: 'invalid', reason: 'not a PROXY header' };
  return prefix.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(bytes);
}
