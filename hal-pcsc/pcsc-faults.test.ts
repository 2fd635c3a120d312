import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHalError, type Unsubscribe } from '../hal/index.js';
import { fromHex, writeTerminalIds } from '../uicc/index.js';
import { openPcscReader } from './open-reader.js';
import { PcscCardReader, type ReaderWatch } from './pcsc-card-reader.js';
import { PcscContext } from './pcsc-context.js';
import type { PcscSimCard } from './pcsc-sim-card.js';
import { VpcdCard } from './vpcd-card.js';
import { TEST_CARD, TEST_VPCD_HOST, VpcdRig, waitUntil } from './vpcd-test-rig.js';

let rig: VpcdRig;
const cleanups: (() => Promise<void> | void)[] = [];
// Claimed per test, not per file, so test files running in parallel take turns on the two readers.
beforeEach(async () => {
  rig = await VpcdRig.start();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rig.stop();
});

async function failure(promise: Promise<unknown>): Promise<{ kind: string; message: string; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (e) {
    const ms = Date.now() - started;
    return isHalError(e)
      ? { kind: e.kind, message: e.message, ms }
      : { kind: `other: ${e}`, message: '', ms };
  }
  throw new Error('expected a rejection');
}

/** Another PC/SC client on the same reader, with its own context (as another process would have). */
async function otherClient(share: 'exclusive' | 'shared'): Promise<PcscSimCard> {
  const other = await openPcscReader({ reader: rig.slot.readerName, share });
  cleanups.push(() => other.close());
  await waitUntil(() => other.present(), 'the other client to see the card');
  const session = await other.open();
  cleanups.push(() => session.close());
  return session;
}

const isRead = (apdu: Uint8Array) => apdu[1] === 0xb0;

describe('a card pulled in the middle of a command', () => {
  it("rejects 'card-removed' at once, reports the removal, and fails every later call the same way", async () => {
    const sim = await rig.open();
    const events: string[] = [];
    rig.reader.on('removed', () => events.push('removed'));
    rig.card!.failOnApdu({ match: isRead, action: 'yank' });
    const result = await failure(sim.iccid());
    expect(result.kind).toBe('card-removed');
    // Sooner than the 5 s command timeout: the removal itself ended the wait (loose bound, loaded CI machines).
    expect(result.ms).toBeLessThan(4500);
    expect(events).toEqual(['removed']);
    expect((await failure(sim.verifyPin('1234'))).kind).toBe('card-removed');
    await sim.close();
  });

  it("a card that holds a command for 300 ms and then leaves is 'card-removed' too", async () => {
    const sim = await rig.open();
    await sim.verifyPin('1234');
    rig.card!.failOnApdu({ match: (apdu) => apdu[1] === 0xdc, action: 'yank', afterMs: 300 });
    expect((await failure(writeTerminalIds(sim, ['a', 'b']))).kind).toBe('card-removed');
    await rig.insert();
    const next = rig.track(await rig.reader.open());
    expect(await next.iccid()).toBe(TEST_CARD.iccid);
  });

  it("a card that stops answering is 'timeout' within the command timeout; the reader recovers", async () => {
    const quick = new PcscCardReader(await contextFor(), rig.slot.readerName, { commandTimeoutMs: 600 });
    cleanups.push(() => quick.close());
    await rig.insert();
    await waitUntil(() => quick.present(), 'the card');
    const sim = await quick.open();
    rig.card!.failOnApdu({ match: isRead, action: 'stall' });
    const result = await failure(sim.iccid());
    expect(result).toMatchObject({ kind: 'timeout' });
    // No hang: the 600 ms command timeout ended the wait (loose bound).
    expect(result.ms).toBeLessThan(4000);
    await sim.close();
    rig.card!.yank();
    await waitUntil(() => !quick.present(), 'the removal');
    await rig.insert();
    await waitUntil(() => quick.present(), 'the next card');
    const next = await quick.open();
    expect(await next.iccid()).toBe(TEST_CARD.iccid);
    await next.close();
  });
});

describe('issue 14 item 5: a hung card does not block shutdown', () => {
  it('with an APDU stuck in the driver, SimCard.close() and reader.close() resolve within closeTimeoutMs', async () => {
    const reader = new PcscCardReader(await contextFor(), rig.slot.readerName, {
      commandTimeoutMs: 5000,
      closeTimeoutMs: 800,
    });
    await rig.insert();
    await waitUntil(() => reader.present(), 'the card');
    const sim = await reader.open();
    rig.card!.failOnApdu({ match: isRead, action: 'stall' });
    const pending = failure(sim.iccid());
    await waitUntil(() => rig.card!.traffic().some((r) => r.response === undefined), 'the stalled APDU');
    // Before: close waited for the stuck SCardTransmit (its command timeout), then for SCardDisconnect.
    let started = Date.now();
    await sim.close();
    expect(Date.now() - started).toBeLessThan(2000);
    started = Date.now();
    await reader.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await pending).kind).toBe('timeout');
    // Pulling the card ends the stuck native call; the next reader on this slot works.
    rig.card!.yank();
    await waitUntil(() => !rig.reader.present(), 'the removal');
    await rig.insert();
    const next = rig.track(await rig.reader.open());
    expect(await next.iccid()).toBe(TEST_CARD.iccid);
  });
});

async function contextFor(): Promise<PcscContext> {
  const context = await PcscContext.open();
  cleanups.push(() => context.close());
  return context;
}

describe('clear errors', () => {
  it("another client holding the card exclusively makes open() 'busy'; shared clients coexist", async () => {
    await rig.insert();
    const other = await otherClient('exclusive');
    expect((await failure(rig.reader.open())).kind).toBe('busy');
    await other.close();
    const shared = await openPcscReader({ reader: rig.slot.readerName, share: 'shared' });
    cleanups.push(() => shared.close());
    await waitUntil(() => shared.present(), 'the card');
    const a = await shared.open();
    const b = await otherClient('shared');
    expect(await a.iccid()).toBe(TEST_CARD.iccid);
    expect(await b.iccid()).toBe(TEST_CARD.iccid);
    await a.close();
  });

  it("a second open() on the same reader is 'busy' until the first session closes, even a concurrent one", async () => {
    await rig.insert();
    const [first, second] = await Promise.allSettled([rig.reader.open(), rig.reader.open()]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && isHalError(second.reason, 'busy')).toBe(true);
    const sim = rig.track((first as PromiseFulfilledResult<PcscSimCard>).value);
    expect((await failure(rig.reader.open())).kind).toBe('busy');
    await sim.close();
    rig.track(await rig.reader.open());
  });

  it("no reader of that name or index: 'device-unavailable' listing the readers there are", async () => {
    for (const reader of ['No Such Reader', 99]) {
      const result = await failure(openPcscReader({ reader }));
      expect(result.kind).toBe('device-unavailable');
      expect(result.message).toContain('Virtual PCD 00 00');
    }
  });

  it("no pcscd: 'device-unavailable' at once, saying to install and start pcscd", async () => {
    const context = fileURLToPath(new URL('./pcsc-context.ts', import.meta.url));
    const code = `import { PcscContext } from ${JSON.stringify(context)};
      try { await PcscContext.open(); console.log('{}'); }
      catch (e) { console.log(JSON.stringify({ kind: e.kind, message: e.message })); }`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code],
      { env: { ...process.env, PCSCLITE_CSOCK_NAME: '/nonexistent/pcscd.comm' }, timeout: 20_000 },
    );
    const result = JSON.parse(stdout.trim());
    expect(result.kind).toBe('device-unavailable');
    expect(result.message).toMatch(/pcscd/);
    expect(result.message).toMatch(/scripts\/pcsc-setup\.sh/);
  });

  it("a card that answers nothing like a SIM is 'card-blocked'", async () => {
    const garbage = { powerOn: () => new Uint8Array(0), powerOff: () => {}, process: () => fromHex('6E00') };
    rig.card = await VpcdCard.insert(garbage, { host: TEST_VPCD_HOST, port: rig.slot.port });
    await waitUntil(() => rig.reader.present(), 'the card');
    expect((await failure(rig.reader.open())).kind).toBe('card-blocked');
  });

  it("asking for T=1 of a T=0-only card is 'not-supported'; a card offering T=1 gets it", async () => {
    const t1 = await openPcscReader({ reader: rig.slot.readerName, protocol: 'T1' });
    cleanups.push(() => t1.close());
    await rig.insert();
    await waitUntil(() => t1.present(), 'the card');
    expect((await failure(t1.open())).kind).toBe('not-supported');
    await rig.remove();
    // ATR: T0 = 80 (TD1 follows), TD1 = 80 (T=0, TD2 follows), TD2 = 01 (T=1), TCK.
    await rig.insert({}, { atr: fromHex('3B 80 80 01 01') });
    await waitUntil(() => t1.present(), 'the T=1 card');
    const sim = await t1.open();
    expect(sim.protocol).toBe('T1');
    expect(await sim.iccid()).toBe(TEST_CARD.iccid);
    await sim.close();
  });
});

describe('readers', () => {
  it('follows a reader that is unplugged and plugged in again', async () => {
    const listeners = { attached: new Set<(n: string) => void>(), detached: new Set<(n: string) => void>() };
    let listed = true;
    const watch: ReaderWatch = {
      has: () => listed,
      on: (event, listener): Unsubscribe => {
        listeners[event].add(listener);
        return () => listeners[event].delete(listener);
      },
    };
    const reader = new PcscCardReader(watch, rig.slot.readerName);
    cleanups.push(() => reader.close());
    const events: string[] = [];
    reader.on('inserted', () => events.push('inserted'));
    reader.on('removed', () => events.push('removed'));
    await rig.insert();
    await waitUntil(() => reader.present(), 'the card');
    listed = false;
    for (const l of listeners.detached) l(rig.slot.readerName);
    expect(reader.present()).toBe(false);
    expect((await failure(reader.open())).kind).toBe('device-unavailable');
    listed = true;
    for (const l of listeners.attached) l(rig.slot.readerName);
    await waitUntil(() => reader.present(), 'the card after re-plugging');
    expect(events).toEqual(['inserted', 'removed', 'inserted']);
    const sim = await reader.open();
    expect(await sim.iccid()).toBe(TEST_CARD.iccid);
    await sim.close();
  });

  it('serves two readers at once, chosen by name and by index', async () => {
    const second = await VpcdRig.start();
    cleanups.push(() => second.stop());
    const context = await contextFor();
    const index = context.readerNames().indexOf(second.slot.readerName);
    const byIndex = await openPcscReader({ reader: index });
    cleanups.push(() => byIndex.close());
    expect(byIndex.name).toBe(second.slot.readerName);
    await rig.insert();
    await second.insert({ iccid: '89490200001234567892' });
    await waitUntil(() => byIndex.present(), 'the second card');
    const [a, b] = await Promise.all([rig.reader.open(), byIndex.open()]);
    rig.track(a);
    cleanups.push(() => b.close());
    expect(await Promise.all([a.iccid(), b.iccid()])).toEqual([TEST_CARD.iccid, '89490200001234567892']);
  });
});
