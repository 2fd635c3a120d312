import { afterEach, describe, expect, it } from 'vitest';
import { isHalError } from '../hal/index.js';
import { AtEngine } from './at-engine.js';
import { AtError } from './at-errors.js';
import { PtyPair } from './sim-modem/pty-pair.js';
import { SimModemHost } from './sim-modem/sim-modem-host.js';
import { card, FAST, POLL, rejection } from './test-support.js';

let host: SimModemHost;
let at: AtEngine;
let cleanups: (() => Promise<void>)[] = [];

async function start(dialect: 'quectel' | 'simcom' = 'quectel'): Promise<void> {
  host = await SimModemHost.start({ dialect, card: card() });
  at = await AtEngine.open({ path: host.path, ...FAST });
  cleanups.push(
    () => at.close(),
    () => host.close(),
  );
}

const kindOf = async (p: Promise<unknown>) => {
  const e = await rejection(p);
  return isHalError(e) ? e.kind : `not a HalError: ${String(e)}`;
};

afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('AtEngine over a pty', () => {
  it('returns information lines before OK and keeps commands in order', async () => {
    await start();
    const results = await Promise.all([at.command('ATI'), at.command('AT+CGMM'), at.command('AT+CSQ')]);
    expect(results.map((r) => r.lines)).toEqual([
      ['Quectel', 'EC25', 'Revision: EC25EFAR06A03M4G'],
      ['EC25'],
      ['+CSQ: 20,99'],
    ]);
    const received = host.modem.commands();
    expect(received.slice(-3)).toEqual(['ATI', 'AT+CGMM', 'AT+CSQ']);
  });

  it('turns echo off at start and skips the echo when a modem has it on', async () => {
    await start();
    expect(host.modem.commands().slice(0, 3)).toEqual(['ATE0', 'AT+CMEE=1', 'AT']);
    host.modem.state.echo = true;
    expect((await at.command('AT+CGMM')).lines).toEqual(['EC25']);
  });

  it('TS 27.007 §9.2: +CME ERROR rejects with the kind of the code; verbose codes too', async () => {
    await start();
    const e = await rejection(at.command('AT+CIMI'));
    expect(e).toBeInstanceOf(AtError);
    expect((e as AtError).kind).toBe('pin-required');
    expect((e as AtError).cme).toBe(11);
    await at.command('AT+CMEE=2');
    const verbose = await rejection(at.command('AT+CIMI'));
    expect((verbose as AtError).cme).toBe(11);
    expect(await kindOf(at.command('AT+NOSUCH'))).toBe('not-supported');
  });

  it('delivers URCs at any moment, also between the lines of a running command', async () => {
    await start();
    const urcs: string[] = [];
    at.onUrc((l) => urcs.push(l));
    await at.command('AT+CEREG=1');
    host.modem.delayNextReply(60);
    const running = at.command('AT+CREG?', { prefix: '+CREG:' });
    await expect.poll(() => host.modem.commands(), POLL).toContain('AT+CREG?');
    host.modem.setRegistration(5);
    host.modem.removeCard();
    const { lines } = await running;
    expect(lines).toEqual(['+CREG: 0,5']);
    expect(urcs).toEqual(['+CEREG: 5', '+CPIN: NOT INSERTED']);
  });

  it("a missing final result rejects 'timeout', then the next command gets its own answer", async () => {
    await start();
    host.modem.dropNextFinal();
    const started = Date.now();
    expect(await kindOf(at.command('AT+CSQ'))).toBe('timeout');
    // No hang: the timeout ends the wait (the bound is loose; timing is not what is tested).
    expect(Date.now() - started).toBeLessThan(FAST.timeoutMs! + 5_000);
    expect((await at.command('AT+CGMM')).lines).toEqual(['EC25']);
    expect((await at.command('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
  });

  it("a slow reply rejects 'timeout'; its late answer is not mistaken for the next command's", async () => {
    await start();
    host.modem.delayNextReply(FAST.timeoutMs! + 100);
    expect(await kindOf(at.command('ATI'))).toBe('timeout');
    expect((await at.command('AT+CGMM')).lines).toEqual(['EC25']);
    expect((await at.command('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
  });

  it('drops line noise, alone or inside a reply', async () => {
    await start();
    host.modem.injectGarbage();
    host.modem.injectGarbage({ inNextReply: true });
    expect((await at.command('AT+CSQ')).lines).toEqual(['+CSQ: 20,99']);
    host.modem.injectGarbage();
    expect((await at.command('AT+CGMM')).lines).toEqual(['EC25']);
  });

  it("a reboot mid-command rejects 'device-unavailable'; the engine sets echo off and CMEE again", async () => {
    await start();
    const events: string[] = [];
    at.onEvent((e) => events.push(e));
    host.modem.delayNextReply(200);
    const running = kindOf(at.command('AT+CSQ'));
    await expect.poll(() => host.modem.commands(), POLL).toContain('AT+CSQ');
    void host.modem.reboot({ downMs: 30 });
    expect(await running).toBe('device-unavailable');
    expect(events).toEqual(['restarted']);
    expect((await at.command('AT+CGMM')).lines).toEqual(['EC25']);
    expect(host.modem.state.echo).toBe(false);
    expect(host.modem.state.cmee).toBe(1);
  });

  it('the port vanishing rejects queued commands at once; the engine reopens it when it returns', async () => {
    await start();
    const events: string[] = [];
    at.onEvent((e) => events.push(e));
    // Long enough that the unplug always comes first, however loaded the machine.
    host.modem.delayNextReply(3_000);
    const running = kindOf(at.command('AT+CSQ', { timeoutMs: 10_000 }));
    const queued = kindOf(at.command('AT+CGMM', { timeoutMs: 10_000 }));
    await expect.poll(() => host.modem.commands(), POLL).toContain('AT+CSQ');
    await host.unplug();
    expect(await running).toBe('device-unavailable');
    expect(await queued).toBe('device-unavailable');
    await expect.poll(() => at.connected, POLL).toBe(false);
    expect(await kindOf(at.command('AT'))).toBe('device-unavailable');
    await host.replug();
    await expect.poll(() => at.connected, POLL).toBe(true);
    // The simulated modem finishes the delayed reply before it reads the next command.
    expect((await at.command('AT+CGMM', { timeoutMs: 10_000 })).lines).toEqual(['EC25']);
    expect(events.slice(0, 2)).toEqual(['disconnected', 'reconnected']);
  });

  it("open() rejects 'device-unavailable' for a missing port and 'timeout' when nothing answers", async () => {
    expect(await kindOf(AtEngine.open({ path: '/dev/nonexistent-modem', ...FAST }))).toBe(
      'device-unavailable',
    );
    const pair = await PtyPair.open();
    cleanups.push(() => pair.close());
    expect(await kindOf(AtEngine.open({ path: pair.link, ...FAST }))).toBe('timeout');
  });

  it('close() rejects later commands and is idempotent', async () => {
    await start('simcom');
    await at.close();
    await at.close();
    expect(await kindOf(at.command('AT'))).toBe('device-unavailable');
  });
});
