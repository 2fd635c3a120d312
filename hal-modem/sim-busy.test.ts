import { afterEach, describe, expect, it } from 'vitest';
import { isHalError, type SimCard } from '../hal/index.js';
import { readTerminalIds } from '../uicc/index.js';
import { Modem } from './modem.js';
import { SimModemHost } from './sim-modem/sim-modem-host.js';
import { type Bench, bench, CARD, card, FAST, POLL } from './test-support.js';

/**
 * Issue 14 item 4: after insertion and after boot a module reads the SIM
 * before it serves it, answering +CME ERROR: 14 (SIM busy) meanwhile — a few
 * hundred ms here, seconds on real EC2x / SIM7600 — and, once the SIM is
 * unlocked, again while SMS and phonebook load (until SMS DONE / PB DONE).
 * All over the real pty path (socat), as the other modem tests.
 */

let b: Bench | undefined;
let host: SimModemHost | undefined;
let modem: Modem | undefined;
afterEach(async () => {
  await b?.close();
  await modem?.close();
  await host?.close();
  b = undefined;
  modem = undefined;
  host = undefined;
});

const BUSY_MS = 400;

/** What an engine does on 'inserted': open at once, read what it needs, ask for the PIN if needed. */
async function mount(sim: SimCard): Promise<unknown[]> {
  const status = await sim.pinStatus();
  const pin = status.enabled ? await sim.verifyPin(CARD.pin!) : { status: 'not asked' };
  return [await sim.iccid(), status.enabled, pin, await sim.imsi(), await readTerminalIds(sim)];
}

/** Resolves with what `mount` gave (or the error kind) at the first 'inserted', and when it fired. */
function onInserted(m: Modem): Promise<{ at: number; result: unknown[] | string }> {
  return new Promise((resolve) => {
    const off = m.reader.on('inserted', () => {
      off();
      const at = Date.now();
      m.reader
        .open()
        .then(mount)
        .then(
          (result) => resolve({ at, result }),
          (e) => resolve({ at, result: isHalError(e) ? `${e.kind}: ${e.message}` : String(e) }),
        );
    });
  });
}

describe.each(['quectel', 'simcom'] as const)('%s: SIM re-insert with a SIM-busy window', (dialect) => {
  it('announces the card only once the SIM has started, and the mount that follows works', async () => {
    b = await bench(dialect, { card: card() });
    b.host.modem.removeCard();
    await expect.poll(() => b!.modem.reader.present(), POLL).toBe(false);
    b.host.modem.setSimBusy(BUSY_MS);
    const inserted = onInserted(b.modem);
    const pushedIn = Date.now();
    b.host.modem.insertCard(card());
    const { at, result } = await inserted;
    // Before: +QSIMSTAT: 1,1 counted as inserted at once, and the mount failed on +CME ERROR: 14.
    expect(at - pushedIn).toBeGreaterThanOrEqual(BUSY_MS - 50);
    expect(result).toEqual([CARD.iccid, true, { status: 'ok' }, CARD.imsi, []]);
  });

  it('PIN1 disabled: file access during the SMS / phonebook load is retried, not reported as busy', async () => {
    b = await bench(dialect, { card: card() });
    b.host.modem.removeCard();
    await expect.poll(() => b!.modem.reader.present(), POLL).toBe(false);
    b.host.modem.setSimBusy(BUSY_MS);
    const inserted = onInserted(b.modem);
    b.host.modem.insertCard(card({ pin1Enabled: false }));
    expect((await inserted).result).toEqual([CARD.iccid, false, { status: 'not asked' }, CARD.imsi, []]);
    if (dialect === 'quectel') expect(b.host.modem.commands()).toContain('AT+QINISTAT');
  });
});

describe('SIM-busy window after boot', () => {
  it('a modem reboot: the card comes back after its start, and the engine’s immediate mount works', async () => {
    b = await bench('quectel', { card: card({ pin1Enabled: false }) });
    b.host.modem.setSimBusy(BUSY_MS);
    const removed = new Promise<void>((resolve) => b!.modem.reader.on('removed', () => resolve()));
    const inserted = onInserted(b.modem);
    await b.host.modem.reboot({ downMs: 20 });
    await removed;
    expect((await inserted).result).toEqual([CARD.iccid, false, { status: 'not asked' }, CARD.imsi, []]);
  });

  it('a terminal started while the modem still boots sees the SIM when Modem.open resolves', async () => {
    host = await SimModemHost.start({ dialect: 'simcom', card: card(), simBusyMs: BUSY_MS });
    host.modem.powerUp();
    modem = await Modem.open({ path: host.path, ...FAST });
    // Before: AT+CPIN? got +CME ERROR: 14 at start, presence stayed "unknown" (false).
    expect(modem.reader.present()).toBe(true);
    const sim = await modem.reader.open();
    expect(await mount(sim)).toEqual([CARD.iccid, true, { status: 'ok' }, CARD.imsi, []]);
  });

  it('bounded: a SIM that stays busy is given up on after simWait.timeoutMs; its +CPIN URC announces it later', async () => {
    host = await SimModemHost.start({ dialect: 'quectel', card: card(), simBusyMs: 2500 });
    host.modem.powerUp();
    const started = Date.now();
    modem = await Modem.open({ path: host.path, ...FAST, reader: { simWait: { timeoutMs: 600 } } });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(modem.reader.present()).toBe(false);
    await expect.poll(() => modem!.reader.present(), POLL).toBe(true);
  });
});
