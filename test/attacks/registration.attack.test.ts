import { createHash, randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncServer } from '../../broker/server.js';
import {
  connackCode,
  connectRaw,
  endClients,
  grantedQos,
  startTestServer,
  stopTestServer,
  TestTerminal,
  within,
} from '../../broker/test-support.js';
import { encodeRequest } from '../../core/protocol/index.js';

/**
 * Attacker's notebook, server side (issue 13; [0009], claim 7: only terminals
 * of the same subscriber may read or write its data). The attacker is a
 * subscriber of their own, S2, with a working login password and terminal;
 * the victim is S1. Each test is one attack, done with a plain MQTT client as
 * an attacker would, against a real server on loopback.
 */

const S1 = '001010000000102';
const S2 = '228062800000208';
const S1_LOGIN = 'victim login password';
const S2_LOGIN = 'attacker login password';

/**
 * A terminal identity made here, independently of core/protocol: 32 random
 * bytes, and the ID they commit to, the first 64 bits of SHA-256 as 18
 * decimal digits (core/protocol/terminal-identity.ts).
 */
function identity(): { key: Uint8Array; terminalId: string } {
  const key = new Uint8Array(randomBytes(32));
  const n = createHash('sha256').update(key).digest().readBigUInt64BE(0);
  return { key, terminalId: (n % 10n ** 18n).toString().padStart(18, '0') };
}

/** Everything a client receives, on any topic. */
function inbox(client: MqttClient): { topic: string; payload: Buffer }[] {
  const got: { topic: string; payload: Buffer }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload }));
  return got;
}

/** Subscribes to every topic an attacker would try; returns the granted QoS of each. */
async function subscribeAll(client: MqttClient, terminalId: string): Promise<number[]> {
  const topics = [
    `ss/1/reg/${terminalId}/down`,
    `ss/1/reg/${terminalId}/#`,
    `ss/1/reg/${terminalId}/+/down`,
    'ss/1/reg/+/down',
    'ss/1/#',
    '#',
  ];
  const granted: number[] = [];
  for (const topic of topics) granted.push(await grantedQos(client, topic));
  return granted;
}

describe('attacks on the registration channel (issue 13; FIG. 8, FIG. 19)', () => {
  let server: SyncServer;
  let port: number;

  beforeEach(async () => {
    server = await startTestServer();
    port = server.port ?? 0;
    await server.admin.addSubscriber({ subscriber: S1, loginPassword: S1_LOGIN });
    await server.admin.addSubscriber({ subscriber: S2, loginPassword: S2_LOGIN });
  });
  afterEach(async () => {
    await endClients();
    await stopTestServer(server);
  });

  /** A raw connection on `terminalId`'s reg channel with `password`, subscribed to every topic it can get: it and what it receives. */
  async function listenOnReg(terminalId: string, password: string) {
    const client = await connectRaw(port, { username: `reg:${terminalId}`, password });
    const caught = inbox(client);
    await subscribeAll(client, terminalId);
    return { client, caught };
  }

  /** The owner registers `victim` with its key, as the engine does (FIG. 8). */
  async function ownerRegisters(victim: { key: Uint8Array; terminalId: string }, categories: string[]) {
    const owner = await TestTerminal.open(port, victim.terminalId, 'reg', `${S1}:${S1_LOGIN}`);
    return owner.request({ type: 'register', subscriber: S1, categories, terminalKey: victim.key } as never);
  }

  it("camping on a new terminal's reg channel with one's own login password catches nothing of the owner's registration", async () => {
    const victim = identity();
    const { caught } = await listenOnReg(victim.terminalId, `${S2}:${S2_LOGIN}`);

    const reply = await ownerRegisters(victim, ['contacts']);
    expect(reply.type).toBe('registered');
    await new Promise((r) => setTimeout(r, 200));
    expect(caught).toEqual([]);
  });

  it('a second connection on the same reg channel does not receive the credential issued to the first', async () => {
    const victim = identity();
    const { client: second, caught } = await listenOnReg(victim.terminalId, `${S1}:${S1_LOGIN}`);
    const reply = await ownerRegisters(victim, []);
    expect(reply.type).toBe('registered');
    // The second one asks too (and is refused or registered anew): its answer is its own.
    second.publish(
      `ss/1/reg/${victim.terminalId}/up`,
      Buffer.from(encodeRequest({ type: 'register', req: 9, subscriber: S2, categories: [] })),
    );
    await new Promise((r) => setTimeout(r, 200));
    const credential = (reply as { credential: string }).credential;
    expect(caught.some((m) => m.payload.includes(Buffer.from(credential)))).toBe(false);
  });

  it("registering the owner's future terminal ID first (squatting) is refused, and the owner registers it after", async () => {
    const victim = identity();
    const squatter = await TestTerminal.open(port, victim.terminalId, 'reg', `${S2}:${S2_LOGIN}`);
    // Without the key, or with a key of one's own, the ID is not the squatter's to take.
    const bare = await squatter.request({ type: 'register', subscriber: S2, categories: [] });
    expect(bare).toMatchObject({ type: 'error', code: 'unproven-terminal' });
    const own = await squatter.request({
      type: 'register',
      subscriber: S2,
      categories: [],
      terminalKey: identity().key,
    } as never);
    expect(own).toMatchObject({ type: 'error', code: 'unproven-terminal' });
    expect(await server.store.getTerminal(victim.terminalId)).toBeUndefined();

    const owner = await TestTerminal.open(port, victim.terminalId, 'reg', `${S1}:${S1_LOGIN}`);
    const reply = await owner.request({
      type: 'register',
      subscriber: S1,
      categories: [],
      terminalKey: victim.key,
    } as never);
    expect(reply.type).toBe('registered');
    expect((await server.store.getTerminal(victim.terminalId))?.subscriber).toBe(S1);
  });

  it('a one-time code issued for another subscriber opens no reg channel and claims no terminal', async () => {
    const victim = identity();
    const { code } = await server.admin.issueCode(S2);
    const camper = await TestTerminal.open(port, victim.terminalId, 'reg', `${S2}:${code}`);
    const claim = await camper.request({ type: 'register', subscriber: S1, categories: [] });
    expect(claim).toMatchObject({ type: 'error', code: 'bad-secret' });
    expect(await connackCode(port, { username: `reg:${victim.terminalId}`, password: `${S1}:${code}` })).toBe(
      4,
    );
  });

  it('a register request sent before subscribing a reply topic registers nothing it could learn of', async () => {
    const victim = identity();
    const blind = await connectRaw(port, {
      username: `reg:${victim.terminalId}`,
      password: `${S1}:${S1_LOGIN}`,
    });
    await within(
      blind.publishAsync(
        `ss/1/reg/${victim.terminalId}/up`,
        Buffer.from(
          encodeRequest({
            type: 'register',
            req: 1,
            subscriber: S1,
            categories: [],
            terminalKey: victim.key,
          } as never),
        ),
        { qos: 1 },
      ),
      'PUBACK',
    );
    const caught = inbox(blind);
    await subscribeAll(blind, victim.terminalId);
    await new Promise((r) => setTimeout(r, 200));
    expect(caught).toEqual([]);
  });
});
