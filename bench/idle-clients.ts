import net from 'node:net';
import { downTopic, username } from '../core/index.js';
import { serveCommands } from './child-commands.js';

/**
 * Idle terminals for the connections bench, in a process of their own (one
 * process can hold only as many sockets as its open-files limit):
 *
 *   node --import tsx bench/idle-clients.ts
 *
 * Each idle terminal is one TCP socket carrying what a Terminal's session
 * sends before it falls silent: CONNECT as `t:<terminalId>` with its
 * credential, SUBSCRIBE QoS 1 to its down topic, then PINGREQ every 30 s
 * (keep-alive 60 s). Packets are written by hand (MQTT 3.1.1 §3.1, §3.8,
 * §3.12) so that a client costs a socket and nothing more. Commands and
 * replies are JSON lines, as in broker-process.ts.
 */
type Command =
  | { id: number; op: 'open'; port: number; terminals: { id: string; credential: string }[]; batch: number }
  | { id: number; op: 'stats' }
  | { id: number; op: 'close' };

const KEEPALIVE_S = 60;
const TIMEOUT_MS = 30_000;
const sockets: net.Socket[] = [];

/** MQTT remaining length (§2.2.3): 7 bits a byte, high bit = more. */
function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, ...remainingLength(body.length)]), body]);
}

/** §3.1 CONNECT: protocol "MQTT" level 4, clean session + username + password, keep-alive. */
function connectPacket(terminalId: string, credential: string): Buffer {
  const flags = 0x80 | 0x40 | 0x02;
  const header = Buffer.concat([
    utf8Field('MQTT'),
    Buffer.from([4, flags, KEEPALIVE_S >> 8, KEEPALIVE_S & 0xff]),
  ]);
  const payload = Buffer.concat([
    utf8Field(`t-${terminalId}`),
    utf8Field(username('t', terminalId)),
    utf8Field(credential),
  ]);
  return packet(0x10, Buffer.concat([header, payload]));
}

/** §3.8 SUBSCRIBE (fixed header flags 0010), packet id 1, one topic at QoS 1. */
function subscribePacket(terminalId: string): Buffer {
  return packet(
    0x82,
    Buffer.concat([Buffer.from([0, 1]), utf8Field(downTopic(terminalId, 't')), Buffer.from([1])]),
  );
}

const PINGREQ = Buffer.from([0xc0, 0]);

/** Connects one idle terminal: resolves once CONNACK accepted and SUBACK granted QoS 1. */
function connectOne(port: number, terminalId: string, credential: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let seen = Buffer.alloc(0);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error('no CONNACK/SUBACK in time')), TIMEOUT_MS);
    socket.once('error', fail);
    socket.once('connect', () =>
      socket.write(Buffer.concat([connectPacket(terminalId, credential), subscribePacket(terminalId)])),
    );
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      // CONNACK (20 02 00 rc) then SUBACK (90 03 00 01 granted).
      if (seen.length >= 4 && (seen[0] !== 0x20 || seen[3] !== 0))
        return fail(new Error(`refused: ${seen.toString('hex')}`));
      if (seen.length < 9) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      if (seen[4] !== 0x90 || seen[8] !== 1)
        return fail(new Error(`subscribe refused: ${seen.toString('hex')}`));
      socket.on('error', () => {});
      socket.on('data', () => {});
      resolve(socket);
    };
    socket.on('data', onData);
  });
}

async function openAll(command: Extract<Command, { op: 'open' }>): Promise<Record<string, unknown>> {
  let opened = 0;
  const errors = new Map<string, number>();
  for (let i = 0; i < command.terminals.length; i += command.batch) {
    const batch = command.terminals.slice(i, i + command.batch);
    const results = await Promise.allSettled(batch.map((t) => connectOne(command.port, t.id, t.credential)));
    for (const r of results) {
      if (r.status === 'fulfilled') {
        sockets.push(r.value);
        opened++;
      } else {
        const message = (r.reason as Error).message.slice(0, 80);
        errors.set(message, (errors.get(message) ?? 0) + 1);
      }
    }
  }
  return { opened, failed: command.terminals.length - opened, errors: Object.fromEntries(errors) };
}

setInterval(
  () => {
    for (const socket of sockets) if (!socket.destroyed) socket.write(PINGREQ);
  },
  (KEEPALIVE_S / 2) * 1000,
).unref();

serveCommands<Command>({ pid: process.pid }, async (command) => {
  switch (command.op) {
    case 'open':
      return openAll(command);
    case 'stats':
      return { rss: process.memoryUsage().rss, open: sockets.filter((s) => !s.destroyed).length };
    case 'close':
      for (const socket of sockets.splice(0)) socket.destroy();
      return {};
  }
});
