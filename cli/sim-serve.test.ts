import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/index.js';
import { isHalError } from '../hal/index.js';
import { openPcscReader, type PcscCardReader, type VpcdCard } from '../hal-pcsc/index.js';
import { claimVpcdSlot, TEST_VPCD_HOST, type VpcdSlot, waitUntil } from '../hal-pcsc/vpcd-test-rig.js';
import { Milenage } from '../uicc/aka/index.js';
import { AKA_SCENARIO_PASSED, akaScenario } from '../uicc/aka-scenario.js';
import { fromHex, terminalIdStorage, writeTerminalIds } from '../uicc/index.js';
import { loadSimProfile, simServe } from './sim-serve.js';

const ICCID = '89490200001234567892';
const IMSI = '262011234567890';

let slot: VpcdSlot;
let reader: PcscCardReader;
beforeEach(async () => {
  slot = await claimVpcdSlot();
  reader = await openPcscReader({ reader: slot.readerName });
});
afterEach(async () => {
  if (reader === undefined) return;
  await waitUntil(() => !reader.present(), 'the served card to leave').finally(async () => {
    await reader.close();
    slot.release();
  });
});

/** Runs `simsync sim serve` until the returned stop() (SIGINT in the CLI). */
async function serve(options: Parameters<typeof simServe>[0]) {
  const stop = new AbortController();
  let card: VpcdCard | undefined;
  const done = simServe({ host: TEST_VPCD_HOST, port: slot.port, ...options }, silentLogger, {
    signal: stop.signal,
    onInserted: (c) => {
      card = c;
    },
  });
  await waitUntil(() => card !== undefined || reader.present(), 'the served card');
  return {
    card: () => card!,
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}

describe('simsync sim serve', () => {
  it('puts a virtual SIM into vpcd that a PC/SC client reads, and takes it out on stop', async () => {
    const served = await serve({ iccid: ICCID, imsi: IMSI, pin: '2468' });
    await waitUntil(() => reader.present(), 'pcscd to see the card');
    const sim = await reader.open();
    expect(await sim.iccid()).toBe(ICCID);
    expect(await sim.verifyPin('2468')).toEqual({ status: 'ok' });
    expect(await sim.imsi()).toBe(IMSI);
    await sim.close();
    await served.stop();
    await waitUntil(() => !reader.present(), 'the card to leave');
  });

  it('takes the profile from a file, flags first; serves a 2G-only card with no proprietary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simsync-profile-'));
    const file = join(dir, 'sim.json');
    await writeFile(
      file,
      JSON.stringify({ iccid: ICCID, imsi: IMSI, pin: '1111', classes: 'sim-only', terminalIdFile: false }),
    );
    expect(await loadSimProfile({ profileFile: file, pin: '2222' })).toMatchObject({
      pin: '2222',
      imsi: IMSI,
    });
    const served = await serve({ profileFile: file, pin: '2222' });
    await waitUntil(() => reader.present(), 'pcscd to see the card');
    const sim = await reader.open();
    expect(sim.application).toBe('sim');
    expect(await sim.verifyPin('2222')).toEqual({ status: 'ok' });
    await writeTerminalIds(sim, ['4711']);
    expect(await terminalIdStorage(sim)).toBe('adn');
    await sim.close();
    await served.stop();
  });

  it('issue 14: serves a USIM-only card with the SJA2 ADF FCP (no 83) and PIN1 disabled, from flags or the profile file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simsync-profile-'));
    const file = join(dir, 'sja2.json');
    await writeFile(
      file,
      JSON.stringify({ iccid: ICCID, imsi: IMSI, classes: 'usim-only', adfFcpWithoutFileId: true }),
    );
    expect(await loadSimProfile({ profileFile: file, pin1Enabled: false })).toMatchObject({
      classes: 'usim-only',
      adfFcpWithoutFileId: true,
      pin1Enabled: false,
    });
    const served = await serve({ profileFile: file, pin1Enabled: false });
    await waitUntil(() => reader.present(), 'pcscd to see the card');
    const sim = await reader.open();
    expect(sim.application).toBe('usim');
    expect(await sim.pinStatus()).toMatchObject({ enabled: false, verified: true });
    expect(await sim.imsi()).toBe(IMSI);
    await sim.close();
    await served.stop();
  });

  it('issue 19: --ki/--opc give the card a Milenage key: it answers AUTHENTICATE, and no message repeats the key', async () => {
    // TS 35.208 Test Set 1 (uicc/aka/milenage.test.ts gives the origin).
    const ki = '465b5ce8b199b49faa5f0a2ee238a6bc';
    const opc = 'cd63cb71954a9f4e48a5994e37a02baf';
    const lines: string[] = [];
    const logger = { ...silentLogger, info: (o: unknown, m?: string) => lines.push(JSON.stringify([o, m])) };
    const stop = new AbortController();
    const done = simServe(
      { iccid: ICCID, imsi: IMSI, ki, opc, host: TEST_VPCD_HOST, port: slot.port },
      logger,
      {
        signal: stop.signal,
      },
    );
    await waitUntil(() => reader.present(), 'pcscd to see the card');
    const sim = await reader.open();
    await sim.verifyPin('1234');
    expect(await akaScenario(sim, new Milenage(fromHex(ki), fromHex(opc)))).toEqual(AKA_SCENARIO_PASSED);
    await sim.close();
    stop.abort();
    await done;
    expect(lines.join('\n')).toContain('"aka":true');
    expect(lines.join('\n')).not.toContain(ki);

    for (const bad of [
      { ki: `${ki}0`, opc },
      { ki: ki.replace('4', 'g'), opc },
      { ki, opc: opc.slice(2) },
    ]) {
      const error = await loadSimProfile({ iccid: ICCID, imsi: IMSI, ...bad }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/32 hex digits/);
      expect((error as Error).message).not.toContain(ki.slice(4, 20));
    }
    // K without OPc or OP cannot be personalised: a usage error naming what is missing.
    await expect(simServe({ iccid: ICCID, imsi: IMSI, ki }, silentLogger)).rejects.toThrow(/OPc and OP/);
  });

  it('refuses a bad profile and a missing vpcd with messages that say what to do', async () => {
    await expect(loadSimProfile({ imsi: IMSI })).rejects.toThrow(/--iccid/);
    await expect(simServe({ iccid: '89490200001234567891', imsi: IMSI }, silentLogger)).rejects.toThrow(
      /check digit|Luhn/i,
    );
    const dir = await mkdtemp(join(tmpdir(), 'simsync-profile-'));
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ iccid: ICCID, imsi: IMSI, colour: 'red' }));
    await expect(loadSimProfile({ profileFile: join(dir, 'bad.json') })).rejects.toThrow(/colour/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await simServe({ iccid: ICCID, imsi: IMSI, port }, silentLogger).catch((e) => e);
    expect(isHalError(error, 'device-unavailable')).toBe(true);
    expect(error.message).toMatch(/vsmartcard-vpcd/);
  });
});
