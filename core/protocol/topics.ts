/**
 * MQTT topics (DESIGN.md "Wire"): one versioned root; every terminal has its
 * own pair of topics and may touch nothing else. A terminal publishes
 * requests on `up` and subscribes to `down` (replies and notices).
 *
 *   ss/1/t/<terminalId>/up      terminal → server, sync requests
 *   ss/1/t/<terminalId>/down    server → terminal, replies and notices
 *   ss/1/reg/<terminalId>/up    registration requests (no credential yet)
 *   ss/1/reg/<terminalId>/<nonce>/down
 *                               registration replies, to the one connection
 *                               that chose <nonce> (see regReplyTopic)
 */
export const TOPIC_ROOT = 'ss/1';

/** Terminal IDs are topic segments: no MQTT wildcards or separators, bounded length. */
const TERMINAL_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function isTerminalId(value: unknown): value is string {
  return typeof value === 'string' && TERMINAL_ID.test(value);
}

export type Channel = 't' | 'reg';

export function upTopic(terminalId: string, channel: Channel = 't'): string {
  return `${TOPIC_ROOT}/${channel}/${terminalId}/up`;
}

export function downTopic(terminalId: string, channel: Channel = 't'): string {
  return `${TOPIC_ROOT}/${channel}/${terminalId}/down`;
}

/**
 * The reply topic of one registration connection. Several connections may
 * open `reg:<terminalId>` (anyone who saw the ID can try), so replies, which
 * carry the new credential, must reach only the connection that asked: each
 * connection subscribes to a topic of its own, named by 128 random bits it
 * chose, and the server forwards a reply only to the connection that bound
 * that topic (issue 13: registration-channel camping).
 */
export function regReplyTopic(terminalId: string, nonce: string): string {
  return `${TOPIC_ROOT}/reg/${terminalId}/${nonce}/down`;
}

/** 128 bits or more, base64url. */
const NONCE = /^[A-Za-z0-9_-]{22,64}$/;

/** The terminal ID and nonce of a registration reply topic, or undefined. */
export function parseRegReplyTopic(topic: string): { terminalId: string; nonce: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 6 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[2] !== 'reg') return undefined;
  const [, , , terminalId, nonce, direction] = parts;
  if (!isTerminalId(terminalId) || nonce === undefined || !NONCE.test(nonce) || direction !== 'down') {
    return undefined;
  }
  return { terminalId, nonce };
}

export interface ParsedTopic {
  channel: Channel;
  terminalId: string;
  direction: 'up' | 'down';
}

/** Parses one of our topics; anything else (wildcards included) is undefined. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const [, , channel, terminalId, direction] = parts;
  if (channel !== 't' && channel !== 'reg') return undefined;
  if (!isTerminalId(terminalId)) return undefined;
  if (direction !== 'up' && direction !== 'down') return undefined;
  return { channel, terminalId, direction };
}

/** MQTT usernames: a terminal connects as `t:<terminalId>`, or `reg:<terminalId>` to register. */
export function parseUsername(
  username: string | undefined,
): { channel: Channel; terminalId: string } | undefined {
  if (username === undefined) return undefined;
  const colon = username.indexOf(':');
  const channel = username.slice(0, colon);
  const terminalId = username.slice(colon + 1);
  if (colon < 0 || (channel !== 't' && channel !== 'reg') || !isTerminalId(terminalId)) return undefined;
  return { channel, terminalId };
}

export function username(channel: Channel, terminalId: string): string {
  return `${channel}:${terminalId}`;
}
